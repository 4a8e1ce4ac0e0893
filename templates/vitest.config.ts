import { defineConfig } from 'vitest/config';

// The subnet tests start a chain, miners and validators on 127.0.0.1: give them time on small machines.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
