import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'examples/**/*.test.ts'],
          // The storage contract suite needs PostgreSQL: its own project below.
          exclude: ['src/storage/contract/**'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'storage',
          // Every storage port against SQLite and a real PostgreSQL (a throwaway cluster, installed
          // from Debian packages if missing; fails loudly), one fresh database per test.
          include: ['src/storage/contract/**/*.test.ts'],
          globalSetup: ['test/setup/postgres.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // A throwaway PostgreSQL cluster, Chromium for the console's browser test and bubblewrap
          // for the upstream sandbox, nginx for the cluster tests, redis-server for shared rate-limit counters (each installed from Debian packages if missing; fails
          // loudly). Run one after the other.
          globalSetup: ['test/setup/postgres.ts', 'test/setup/chromium.ts', 'test/setup/bubblewrap.ts', 'test/setup/nginx.ts', 'test/setup/redis.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each file starts its own gateway and upstream processes on its own ports.
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
