import { UsageError } from '../../errors/index.js';
import { revoke } from '../../identity/revoke.js';
import type { RevocationKind } from '../../storage/index.js';
import { withAdmin } from '../admin.js';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { withConnections } from './connections.js';

const TARGETS = ['user', 'client', 'session', 'token', 'grant'] as const;

export const revokeCommand = defineCommand(COMMAND_SPECS.revoke, async (ctx) => {
  const given = TARGETS.filter((t) => ctx.values[t] !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --user, --client, --session, --token, --grant');
  const kind = given[0] as RevocationKind;
  const value = ctx.values[kind] as string;
  if (value.trim() === '') throw new UsageError(`--${kind} needs a value`);
  const revoked = await withAdmin(ctx.config(), async ({ storage, audit, actor, maxTokenTtlMs }) => {
    const { entry, removed } = await revoke({ storage, audit, maxTokenTtlMs }, { kind, value, by: actor, reason: ctx.values.reason });
    return { kind, value, id: entry.id, at: new Date(entry.revokedAt).toISOString(), artifactsRemoved: removed };
  });
  // A revoked user's own accounts at downstream providers are disconnected too, and their
  // tokens revoked at each provider that offers RFC 7009.
  const connections = kind === 'user' ? await withConnections(ctx.config(), ctx.io.env, ({ registry, actor }) => registry.revokeUser(value, actor)) : [];
  const failed = connections.filter((c) => c.atProvider === 'failed').map((c) => c.server);
  ctx.print(
    { revoked: { ...revoked, ...(kind === 'user' ? { connections } : {}) } },
    `revoked ${kind} ${value}${connections.length ? `; disconnected ${connections.map((c) => `${c.server} (${c.atProvider})`).join(', ')}` : ''}${failed.length ? `; revoking at the provider FAILED for ${failed.join(', ')}: revoke those tokens there` : ''}`,
  );
  return ExitCode.Ok;
});
