// `npm run test:release`: the distribution tests of test/release/ (release
// archives, the npm package, the JSR package, the container image). They
// build what they test themselves, so they run one file at a time.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/release/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
