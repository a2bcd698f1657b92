import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The distribution tests (release archives, npm package, JSR, container)
    // run with `npm run test:release` (vitest.release.config.ts).
    exclude: [...configDefaults.exclude, "test/release/**"],
    // Builds dist/ once per run when it is missing or older than the sources,
    // and only when the run includes tests that start the CLI as a process.
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});
