import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Migrates once per run; each test clones the result (test/helpers/database-templates.ts). Real Unix users for the
    // suites that run jobs as their owners (made only as root).
    globalSetup: ['test/global-setup.ts', 'test/unix-users-setup.ts'],
    // Bounded, but long enough that a busy machine slows a test down instead of failing it.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more workers only make the PGlite and Postgres suites fight over them.
    maxWorkers: 2,
  },
});
