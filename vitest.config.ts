import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start gdb-multiarch and QEMU; two cores are all CI has.
    pool: 'forks',
    maxWorkers: 2,
  },
});
