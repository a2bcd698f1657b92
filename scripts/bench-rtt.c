/*
 * One connection, PUB, wait for its OK, repeat: the round-trip load generator
 * of `scripts/bench.ts` case 4 (--rtt-client=c). Written in C so that the
 * client costs a few microseconds per round trip and the figure is nsqd's.
 *
 *   bench-rtt <host> <port> <topic> <body size> <count> <seconds>
 *
 * It waits for each answer by polling the socket (recv with MSG_DONTWAIT in a
 * loop) rather than sleeping in read(): a client that sleeps must be woken by
 * the kernel for every answer, which on a virtual machine costs more than the
 * whole round trip through nsqd. Go clients (the original's bench_writer) get
 * the same effect from their runtime's spinning threads.
 *
 * Stops after <count> round trips or <seconds>, whichever comes first, and
 * prints one line: "<round trips> <seconds> <p50 us> <p99 us> <max us>".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s host port topic size count seconds\n", argv[0]);
    return 2;
  }
  int size = atoi(argv[4]);
  long count = atol(argv[5]);
  double seconds = atof(argv[6]);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("connect");
    return 1;
  }
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (write(s, "  V2", 4) != 4) return 1;
  size_t cap = strlen(argv[3]) + 16 + (size_t)size;
  char *cmd = malloc(cap);
  int n = sprintf(cmd, "PUB %s\n", argv[3]);
  uint32_t len = htonl((uint32_t)size);
  memcpy(cmd + n, &len, 4);
  n += 4;
  memset(cmd + n, 'x', (size_t)size);
  n += size;
  double *rtt = malloc(sizeof(double) * (size_t)(count > 0 ? count : 1));
  char buf[256];
  long done = 0;
  double t0 = now(), end = t0 + seconds;
  while (done < count) {
    double t = now();
    if (write(s, cmd, (size_t)n) != n) {
      perror("write");
      return 1;
    }
    int got = 0;
    /* the answer is one frame: [size][type][data]; OK is 10 bytes */
    while (got < 8 || got < 4 + (int)ntohl(*(uint32_t *)buf)) {
      int r = (int)recv(s, buf + got, sizeof buf - (size_t)got, MSG_DONTWAIT);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (r <= 0) {
        perror("recv");
        return 1;
      }
      got += r;
    }
    if (ntohl(*(uint32_t *)(buf + 4)) != 0) {
      fprintf(stderr, "error frame: %.*s\n", got - 8, buf + 8);
      return 1;
    }
    double e = now();
    rtt[done++] = (e - t) * 1e6;
    if (e > end) break;
  }
  double d = now() - t0;
  qsort(rtt, (size_t)done, sizeof(double), cmp);
  printf("%ld %.3f %.0f %.0f %.0f\n", done, d, rtt[done / 2], rtt[(long)(done * 0.99)], rtt[done - 1]);
  return 0;
}
