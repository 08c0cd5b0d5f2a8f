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
    // A worker imports the modules once for all its files, not once per file. Suites keep no state in modules
    // (each test opens its own database, queue, store and servers, and closes them), so nothing leaks between files.
    isolate: false,
  },
});
