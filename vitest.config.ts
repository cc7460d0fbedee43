import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // Worker threads and the CLI run compiled code from dist/: build once before the suite.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A poll waits for the UI or a process to catch up: on a busy two-core machine, running other
    // test files beside it, a second (the default) is not always enough.
    expect: { poll: { timeout: 5_000 } },
  },
});
