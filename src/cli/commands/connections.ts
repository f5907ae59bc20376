import path from 'node:path';
import type { LoadedConfig } from '../../config/index.js';
import type { ConnectionRegistry } from '../../connectors/http/auth/connections.js';
import { connectionRegistryFromConfig } from '../../connectors/http/auth/registry-from-config.js';
import { UsageError } from '../../errors/index.js';
import { silentLogger } from '../../log/index.js';
import type { Storage } from '../../storage/index.js';
import { loadMasterKey, Vault } from '../../vault/index.js';
import { openCliAudit, osUser, withStorage } from '../admin.js';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';

/**
 * Opens what revoking connections needs: storage, the audit log, the vault (its key loaded
 * only when a token must be opened to revoke it at the provider) and the registry.
 */
export async function withConnections<T>(
  config: LoadedConfig,
  env: NodeJS.ProcessEnv,
  fn: (deps: { storage: Storage; registry: ConnectionRegistry; actor: string }) => Promise<T>,
): Promise<T> {
  return withStorage(config, async (storage) => {
    const log = silentLogger();
    const audit = await openCliAudit(storage, log);
    const settings = { env, dataDir: config.dataDir, keyFile: config.vault.keyFile ? path.resolve(config.baseDir, config.vault.keyFile) : undefined };
    const vault = new Vault({ store: storage.vault, keys: () => loadMasterKey(settings).provider });
    const { registry, close } = connectionRegistryFromConfig(config, { storage, audit, vault, log });
    try {
      return await fn({ storage, registry, actor: `os:${osUser()}` });
    } finally {
      await close();
      await audit.close();
    }
  });
}

export const connectionsListCommand = defineCommand(COMMAND_SPECS.connectionsList, async (ctx) => {
  const config = ctx.config();
  return withStorage(config, async (storage) => {
    const rows = await storage.connections.list({ user: ctx.values.user, server: ctx.values.server });
    const data = rows.map((r) => ({
      user: r.user,
      server: r.server,
      provider: r.provider,
      scopes: r.scopes,
      connectedAt: new Date(r.createdAt).toISOString(),
      refreshedAt: r.refreshedAt === null ? null : new Date(r.refreshedAt).toISOString(),
      refreshable: r.hasRefreshToken,
    }));
    const text =
      data.length === 0
        ? 'no connections'
        : data
            .map(
              (r) =>
                `${r.user}\t${r.server}\t${r.provider}\t${r.scopes.join(' ') || '-'}\tsince ${r.connectedAt}${r.refreshedAt ? `\trefreshed ${r.refreshedAt}` : ''}`,
            )
            .join('\n');
    ctx.print({ connections: data }, text);
    return ExitCode.Ok;
  });
});

export const connectionsRevokeCommand = defineCommand(COMMAND_SPECS.connectionsRevoke, async (ctx) => {
  const user = ctx.values.user?.trim();
  const server = ctx.values.server?.trim();
  if (!user || !server) throw new UsageError('give --user NAME and --server NAME');
  return withConnections(ctx.config(), ctx.io.env, async ({ registry, actor }) => {
    const result = await registry.disconnect(user, server, actor, 'cli');
    if (!result) {
      ctx.print({ revoked: null, user, server }, `${user} has no connection to ${server}`);
      return ExitCode.Failed;
    }
    const note: Record<typeof result.atProvider, string> = {
      revoked: 'revoked at the provider',
      unsupported: 'the provider offers no revocation endpoint: the tokens were deleted here and expire there',
      failed: 'revoking at the provider FAILED: the tokens were deleted here; revoke them at the provider',
      unknown_server: 'the server is not configured for user connections: the tokens were deleted here only',
    };
    ctx.print({ revoked: result }, `removed ${user}'s connection to ${server} (${result.provider}); ${note[result.atProvider]}`);
    return ExitCode.Ok;
  });
});
