# The nsq container image, laid out like the original's: every program name
# (nsqd, nsqlookupd, nsqadmin, nsq_tail, nsq_to_file, nsq_to_http, nsq_to_nsq,
# nsq_stat, to_nsq) is a link to the one executable, both in / and on PATH:
#
#   docker build -t nsq .
#   docker run -p 4150:4150 -p 4151:4151 -v nsqd-data:/data nsq /nsqd
#   docker run -p 4160:4160 -p 4161:4161 nsq /nsqlookupd
#   docker run -p 4171:4171 nsq /nsqadmin --lookupd-http-address=<host>:4161
#
# Build stage: the npm toolchain compiles the single binary (bun build
# --compile). Run stage: a small Debian with that binary only. Both images can
# be swapped (--build-arg BUILD_IMAGE=... BASE_IMAGE=...); the base must have
# glibc, as the linux builds of nsq are linked against it.
ARG BUILD_IMAGE=node:20-bookworm-slim
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json deno.json ./
COPY scripts/build.mjs scripts/
COPY cli cli
COPY src src
RUN node scripts/build.mjs binary && ./dist/nsq --version

FROM ${BASE_IMAGE}
COPY --from=build /src/dist/nsq /usr/local/bin/nsq
RUN for name in nsqd nsqlookupd nsqadmin nsq_tail nsq_to_file nsq_to_http nsq_to_nsq nsq_stat to_nsq; do \
      ln -s /usr/local/bin/nsq "/usr/local/bin/$name" && ln -s /usr/local/bin/nsq "/$name" || exit 1; \
    done \
 && mkdir -p /data
# nsqd keeps its data in the working directory unless --data-path says otherwise.
WORKDIR /data
VOLUME /data
# nsqd TCP/HTTP, nsqlookupd TCP/HTTP, nsqadmin HTTP (4170 as the original image lists it).
EXPOSE 4150 4151 4160 4161 4170 4171
CMD ["nsq", "--help"]
