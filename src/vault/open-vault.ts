import path from 'node:path';
import { AuditKind, type AuditLog } from '../audit/index.js';
import type { LoadedConfig } from '../config/index.js';
import { registerCredential, type Logger } from '../log/index.js';
import type { Storage } from '../storage/index.js';
import { vaultReferences } from './config-references.js';
import { findInlineSecrets } from './inline-secrets.js';
import type { KeyProvider } from './key-provider.js';
import { loadMasterKey } from './master-key.js';
import { Vault } from './vault.js';

/** The vault over the data dir's store, with the master key loaded on first need. */
export function openVault(
  config: LoadedConfig,
  storage: Storage,
  env: NodeJS.ProcessEnv,
  audit: AuditLog,
  memory: ReadonlyMap<string, string> | undefined,
): Vault {
  let provider: KeyProvider | undefined;
  return new Vault({
    store: storage.vault,
    memory,
    keys: () =>
      (provider ??= loadMasterKey({
        env,
        dataDir: config.dataDir,
        keyFile: config.vault.keyFile ? path.resolve(config.baseDir, config.vault.keyFile) : undefined,
      }).provider),
    onUse: (name, consumer, origin) => void audit.append(AuditKind.VaultUse, { secret: name, consumer, origin }, { durable: false }),
  });
}

/** Start-time warnings: credentials written into the config, vault references that cannot resolve. */
export async function checkCredentials(config: LoadedConfig, vault: Vault, log: Logger): Promise<void> {
  for (const finding of findInlineSecrets(config, (value) => registerCredential(value))) {
    log.warn(
      { path: finding.path },
      `credential in the configuration: ${finding.reason}. Store it in the vault (gatehouse vault put NAME) and reference it as vault:NAME`,
    );
  }
  const references = vaultReferences(config);
  for (const { path: where, name } of references) {
    if (!(await vault.has(name))) {
      log.error(
        { path: where, secret: name },
        `vault secret "${name}" does not exist; add it with: gatehouse vault put ${name} (the server starts once it exists)`,
      );
    }
  }
}
