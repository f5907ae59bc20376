import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { AuditLog } from '../../src/audit/index.js';
import { ConnectionRegistry } from '../../src/connectors/http/auth/connections.js';
import { UserOAuthAuthSchema, type UserOAuthAuth } from '../../src/config/http/auth-schemas.js';
import { UserOAuthProvider } from '../../src/connectors/http/auth/user-oauth.js';
import { createGuardedFetch, EgressGuard, type GuardedFetch } from '../../src/egress/index.js';
import { createLogger, type Logger } from '../../src/log/index.js';
import { SqliteStorage } from '../../src/storage/index.js';
import { KeyRing } from '../../src/tokens/index.js';
import { LocalKeyProvider, Vault } from '../../src/vault/index.js';

export const PUBLIC_URL = 'http://gatehouse.test';
export const CALLBACK = `${PUBLIC_URL}/connections/callback`;
export const CLIENT_SECRET_NAME = 'downstream-client-secret';

/** One process's view of a data dir: storage, vault (sealed under `key`), audit log, guarded fetch, captured logs. */
export interface ConnectionWorld {
  dataDir: string;
  key: Buffer;
  storage: SqliteStorage;
  vault: Vault;
  audit: AuditLog;
  log: Logger;
  logs: string[];
  egress: GuardedFetch;
  registry: ConnectionRegistry;
  provider(server: string, config: Record<string, unknown>): UserOAuthProvider;
  auditBodies(): Promise<{ kind: string; body: Record<string, unknown> }[]>;
  /** Every file in the data dir as text (database, WAL, shared memory). */
  dataDirText(): string;
  close(): Promise<void>;
}

export async function connectionWorld(options: { dataDir?: string; key?: Buffer; secrets?: Record<string, string> } = {}): Promise<ConnectionWorld> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gh-connections-'));
  const key = options.key ?? randomBytes(32);
  const storage = SqliteStorage.open(dataDir);
  const vault = new Vault({ store: storage.vault, keys: () => new LocalKeyProvider(key, 'test key') });
  for (const [name, value] of Object.entries(options.secrets ?? {})) await vault.put(name, value);
  const logs: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, callback) {
        logs.push(String(chunk));
        callback();
      },
    }) as never,
  });
  const audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), log, {
    checkpointEvery: 1000,
    checkpointIntervalMs: 300_000,
  });
  const egress = createGuardedFetch({
    guard: new EgressGuard({ purpose: 'token endpoint', allowAddresses: ['127.0.0.0/8'] }),
    maxResponseBytes: 256 * 1024,
    timeoutMs: 10_000,
  });
  const registry = new ConnectionRegistry(storage.connections, audit);
  return {
    dataDir,
    key,
    storage,
    vault,
    audit,
    log,
    logs,
    egress,
    registry,
    provider(server, config) {
      const parsed: UserOAuthAuth = UserOAuthAuthSchema.parse({ type: 'userOAuth', ...config });
      const provider = new UserOAuthProvider(server, parsed, { fetch: egress.fetch, vault, store: storage.connections, audit, log, publicUrl: PUBLIC_URL });
      registry.add(provider);
      return provider;
    },
    async auditBodies() {
      await audit.flush();
      return (await storage.audit.query({ limit: 100_000 })).map((r) => ({ kind: r.kind, body: JSON.parse(r.body) as Record<string, unknown> }));
    },
    dataDirText() {
      return readdirSync(dataDir)
        .map((f) => readFileSync(path.join(dataDir, f)).toString('latin1'))
        .join('\n');
    },
    async close() {
      await audit.close();
      await egress.close();
      await storage.close();
    },
  };
}
