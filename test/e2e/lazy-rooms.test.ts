// Rooms a configuration does not use are not loaded at `gatehouse start`: the OpenTelemetry
// API, prom-client, the PostgreSQL storage (with the pg driver) and rate-limiter-flexible's
// other stores cost memory in every process that loads them, so they are imported only when
// `tracing:`, `metrics:` or `storage.postgres` is configured (the in-memory limiter alone).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ECHO_SERVER, freePort, NODE, ROOT, startGateway, tempDir } from '../helpers/e2e.js';

const RECORDER = path.join(ROOT, 'test/fixtures/record-loaded-modules.mjs');

/** The module URLs a gateway started with `config` loaded, up to and including being ready. */
async function loadedModules(config: Record<string, unknown>): Promise<string[]> {
  const file = path.join(tempDir('gh-lazy-'), 'loaded.txt');
  const gw = await startGateway({ config, env: { NODE_OPTIONS: `--import ${RECORDER}`, LOADED_MODULES_FILE: file } });
  const exit = await gw.stop();
  expect(exit.code).toBe(0);
  return readFileSync(file, 'utf8').split('\n');
}

const BASE = { servers: { echo: { command: NODE, args: [ECHO_SERVER] } }, access: [{ allow: { users: ['alice'], servers: ['echo'] } }] };
const UNUSED = [
  /\/node_modules\/@opentelemetry\//,
  /\/node_modules\/prom-client\//,
  /\/node_modules\/pg\//,
  /\/dist\/storage\/postgres\/index\.js$/,
  // The package index, which requires every store it ships; the in-memory limiter is required alone.
  /\/node_modules\/rate-limiter-flexible\/index\.js$/,
  /\/node_modules\/rate-limiter-flexible\/lib\/RateLimiterRedis\.js$/,
];

describe('lazily loaded rooms', () => {
  afterAll(cleanup);

  it('a default configuration loads no tracing, metrics or PostgreSQL module', async () => {
    const loaded = await loadedModules(BASE);
    // The recorder saw the gateway itself (so an empty list cannot pass).
    expect(loaded.some((u) => u.endsWith('/dist/gateway.js'))).toBe(true);
    expect(loaded.some((u) => u.endsWith('/dist/storage/sqlite/index.js'))).toBe(true);
    expect(loaded.some((u) => u.endsWith('/node_modules/rate-limiter-flexible/lib/RateLimiterMemory.js'))).toBe(true);
    for (const pattern of UNUSED)
      expect(
        loaded.filter((u) => pattern.test(u)),
        String(pattern),
      ).toEqual([]);
  });

  it('configured metrics load prom-client (which loads the OpenTelemetry API itself), and still no PostgreSQL module', async () => {
    const loaded = await loadedModules({ ...BASE, metrics: { listen: { host: '127.0.0.1', port: await freePort() } } });
    expect(loaded.some((u) => /\/node_modules\/prom-client\//.test(u))).toBe(true);
    for (const pattern of [UNUSED[2]!, UNUSED[3]!])
      expect(
        loaded.filter((u) => pattern.test(u)),
        String(pattern),
      ).toEqual([]);
  });
});
