import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real Unix users for the suites that run jobs as their owners (made only as root).
    globalSetup: ['test/unix-users-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only make the PGlite and Postgres suites fight over them.
    maxWorkers: 2,
  },
});
