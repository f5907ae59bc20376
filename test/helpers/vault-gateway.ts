import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { validateConfig, type ConfigInput, type LoadedConfig } from '../../src/config/index.js';
import type { Connector } from '../../src/connectors/index.js';
import { assembleGateway, type Assembly } from '../../src/gateway.js';
import { createLogger } from '../../src/log/index.js';
import { SqliteStorage } from '../../src/storage/index.js';
import { LocalKeyProvider, MASTER_KEY_ENV, Vault } from '../../src/vault/index.js';
import { Harness, PUBLIC_URL } from './gateway-harness.js';

export interface VaultGateway {
  harness: Harness;
  assembly: Assembly;
  dataDir: string;
  /** Every log line the gateway wrote (after redaction, as it would reach a log sink). */
  logs: string[];
  /** Every audit record body, after flushing. */
  auditBodies(): Promise<{ kind: string; body: Record<string, unknown> }[]>;
  /** The raw bytes of every file in the data dir (database, WAL), as text. */
  dataDirText(): string;
  close(): Promise<void>;
}

/**
 * A whole gateway in process with the real connectors built from `servers:` and a real,
 * encrypted vault holding `secrets` (sealed under a random master key passed as
 * GATEHOUSE_MASTER_KEY). Driven through app.request(), like Harness.
 */
export async function vaultGateway(
  input: ConfigInput,
  secrets: Record<string, string>,
  options: {
    memorySecrets?: Record<string, string> /** Edits the validated config (to test defences behind validation). */;
    afterValidation?: (config: LoadedConfig) => void;
    /** Connectors to use instead of those built from `servers:`. */
    connectors?: Map<string, Connector>;
  } = {},
): Promise<VaultGateway> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-vault-gw-'));
  const key = randomBytes(32);
  const storage = SqliteStorage.open(dataDir);
  const vault = new Vault({ store: storage.vault, keys: () => new LocalKeyProvider(key, 'test key') });
  for (const [name, value] of Object.entries(secrets)) await vault.put(name, value);
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const log = createLogger({ level: 'debug', destination: destination as never });
  const config = validateConfig({ ...input, publicUrl: PUBLIC_URL, dataDir }, 'test', dataDir, { env: {} });
  options.afterValidation?.(config);
  const assembly = await assembleGateway(config, {
    log,
    env: { [MASTER_KEY_ENV]: key.toString('base64'), PATH: process.env.PATH },
    storage,
    ...(options.memorySecrets ? { memorySecrets: new Map(Object.entries(options.memorySecrets)) } : {}),
    ...(options.connectors ? { connectors: options.connectors } : {}),
  });
  const harness = new Harness(assembly);
  let closed = false;
  return {
    harness,
    assembly,
    dataDir,
    logs,
    async auditBodies() {
      await assembly.audit.flush();
      return (await storage.audit.query({ limit: 100_000 })).map((r) => ({ kind: r.kind, body: JSON.parse(r.body) as Record<string, unknown> }));
    },
    dataDirText() {
      return readdirSync(dataDir)
        .map((f) => readFileSync(path.join(dataDir, f)).toString('latin1'))
        .join('\n');
    },
    async close() {
      if (closed) return;
      closed = true;
      await assembly.sessions.closeAll();
      await assembly.broker.close('shutdown');
      await Promise.all([...assembly.connectors.values()].map((c) => c.stop()));
      await assembly.audit.close();
      await storage.close();
    },
  };
}
