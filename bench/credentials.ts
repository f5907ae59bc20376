// Credential providers for HTTP APIs: what a request pays for its credential when it is
// cached (the hot path), next to a baseline measured in the same run (building the same
// header object from a constant), and the cold cost of opening a sealed token from storage.
//
//   node bench/credentials.ts        (standalone: prints the table; `make build` first)
//   import { runCredentialBench } from './credentials.ts'
//
// Target: a cached credential costs ≤ 50 µs per request (a tenth of the connector's 0.5 ms
// overhead budget). Nothing here asserts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AuditLog } from '../dist/audit/index.js';
import { apiKeyAuth } from '../dist/connectors/http/auth/api-key.js';
import { ApiKeyAuthSchema, UserOAuthAuthSchema } from '../dist/config/http/auth-schemas.js';
import { UserOAuthProvider } from '../dist/connectors/http/auth/user-oauth.js';
import { silentLogger } from '../dist/log/index.js';
import { SqliteStorage } from '../dist/storage/index.js';
import { KeyRing } from '../dist/tokens/index.js';
import { LocalKeyProvider, Vault } from '../dist/vault/index.js';

const TARGET_US = 50;

async function perCall(fn: () => Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(1000, iterations); i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1e3 / iterations;
}

export async function runCredentialBench(
  options: { iterations?: number } = {},
): Promise<{ title: string; rows: Record<string, string | number>[]; notes: string[] }> {
  const iterations = options.iterations ?? 100_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-bench-credentials-'));
  const storage = SqliteStorage.open(dir);
  try {
    const key = randomBytes(32);
    const vault = new Vault({ store: storage.vault, keys: () => new LocalKeyProvider(key, 'bench') });
    await vault.put('bench-key', 'sk_bench_key_value_0123456789');
    const log = silentLogger();
    const audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), log, {
      checkpointEvery: 1000,
      checkpointIntervalMs: 300_000,
    });
    const ctx = { user: { sub: 'alice' }, server: 'api', tool: 'list', requestId: 'r', signal: new AbortController().signal } as never;
    const request = { method: 'GET', url: new URL('https://api.example/items') };
    const noFetch = (() => Promise.reject(new Error('no network in this bench'))) as typeof fetch;
    const config = UserOAuthAuthSchema.parse({ type: 'userOAuth', issuer: 'https://idp.example', clientId: 'gatehouse' });
    const seal = (kind: string, value: string) => vault.sealValue(`connection:${JSON.stringify(['api', 'alice'])}:${kind}`, value);
    await storage.connections.connect(
      {
        user: 'alice',
        server: 'api',
        provider: 'bench',
        scopes: [],
        refreshToken: await seal('refresh', 'rt_bench_value_0123456789'),
        accessToken: await seal('access', 'at_bench_value_0123456789'),
        accessExpiresAt: Date.now() + 3_600_000,
      },
      Date.now(),
    );
    const userOAuth = () =>
      new UserOAuthProvider('api', config, { fetch: noFetch, vault, store: storage.connections, audit, log, publicUrl: 'http://gatehouse.bench' });
    const apiKey = apiKeyAuth('api', ApiKeyAuthSchema.parse({ type: 'apiKey', name: 'x-api-key', key: 'vault:bench-key' }), { vault });
    const warm = userOAuth();

    const baseline = await perCall(async () => ({ headers: { authorization: 'Bearer at_bench_value_0123456789' } }), iterations);
    const keyCached = await perCall(() => apiKey.authorize(request, ctx), iterations);
    const tokenCached = await perCall(() => warm.authorize(request, ctx), iterations);
    // Cold: a process that has nothing in memory opens the sealed access token from storage.
    const cold = await perCall(() => userOAuth().authorize(request, ctx), Math.max(200, iterations / 100));
    await audit.close();
    const row = (path: string, us: number, target?: boolean) => ({
      path,
      'µs/call': Number(us.toFixed(2)),
      'vs baseline': `${(us / baseline).toFixed(1)}×`,
      ...(target ? { target: `≤ ${TARGET_US} µs`, verdict: us <= TARGET_US ? 'PASS' : 'MISS' } : {}),
    });
    return {
      title: 'Credential providers: cost per request',
      rows: [
        row('baseline: constant header object', baseline),
        row('apiKey, vault value cached', keyCached, true),
        row('userOAuth, access token in memory', tokenCached, true),
        row('userOAuth, cold: sealed token from storage', cold),
      ],
      notes: [`${iterations} calls per row (cold: ${Math.max(200, iterations / 100)}); SQLite in a temp dir; no network.`],
    };
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runCredentialBench();
  console.log(result.title);
  console.table(result.rows);
  for (const note of result.notes) console.log(note);
}
