import type { AuditLog } from '../../../audit/index.js';
import type { LoadedConfig } from '../../../config/index.js';
import { createGuardedFetch, EgressGuard, type GuardedFetch } from '../../../egress/index.js';
import type { Logger } from '../../../log/index.js';
import type { Storage } from '../../../storage/index.js';
import type { Vault } from '../../../vault/index.js';
import { UserOAuthAuthSchema } from '../../../config/http/auth-schemas.js';
import { ConnectionRegistry } from './connections.js';
import { UserOAuthProvider } from './user-oauth.js';

interface ServerShape {
  http?: { auth?: unknown };
  egress?: { allowAddresses?: readonly string[] };
}

/**
 * The connection registry for a command that runs outside the gateway (`connections revoke`,
 * `revoke --user`): one userOAuth provider per configured server, each talking to its
 * provider only through an egress-guarded fetch, which may reach the global and the server's allowed ranges.
 */
export function connectionRegistryFromConfig(
  config: LoadedConfig,
  deps: { storage: Pick<Storage, 'connections'>; audit: AuditLog; vault: Vault; log: Logger },
): { registry: ConnectionRegistry; close(): Promise<void> } {
  const registry = new ConnectionRegistry(deps.storage.connections, deps.audit);
  const fetches: GuardedFetch[] = [];
  for (const [name, server] of Object.entries(config.servers as Record<string, ServerShape>)) {
    const auth = server.http?.auth as { type?: unknown } | undefined;
    if (auth?.type !== 'userOAuth') continue;
    const parsed = UserOAuthAuthSchema.safeParse(auth);
    if (!parsed.success) {
      deps.log.warn(
        { server: name },
        'servers.<name>.http.auth is not a valid userOAuth configuration; its connections are removed without revocation at the provider',
      );
      continue;
    }
    const egress = createGuardedFetch({
      guard: new EgressGuard({
        purpose: `http server ${name} credentials`,
        allowAddresses: [...config.egress.allowAddresses, ...(server.egress?.allowAddresses ?? [])],
      }),
      maxResponseBytes: 256 * 1024,
      timeoutMs: 10_000,
    });
    fetches.push(egress);
    registry.add(
      new UserOAuthProvider(name, parsed.data, {
        fetch: egress.fetch,
        vault: deps.vault,
        store: deps.storage.connections,
        audit: deps.audit,
        log: deps.log,
        publicUrl: config.publicUrl,
      }),
    );
  }
  return { registry, close: async () => void (await Promise.all(fetches.map((f) => f.close()))) };
}
