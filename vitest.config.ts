import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// templates/ import the framework by its package name, as a generated subnet would.
const framework = fileURLToPath(new URL('./framework/', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^subnetkit$/, replacement: `${framework}index.ts` },
      { find: /^subnetkit\/(.+)$/, replacement: `${framework}$1/index.ts` },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'templates/test/**/*.test.ts', 'subnets/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: keep parallelism modest so socket/timing tests stay stable.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
