import { UsageError } from '../../errors/index.js';
import { revoke } from '../../identity/revoke.js';
import type { RevocationKind } from '../../storage/index.js';
import { withAdmin } from '../admin.js';
import { defineCommand, ExitCode } from '../command.js';

const TARGETS = ['user', 'client', 'session', 'token', 'grant'] as const;

export const revokeCommand = defineCommand({
  name: 'revoke',
  summary:
    "Revokes at once, without waiting for expiry: a user's tokens, sessions and refresh families (--user), everything issued to a client (--client), one MCP session (--session), one access token by jti (--token), or one authorization (--grant). A running gateway applies it before its next request.",
  usage: 'revoke (--user NAME | --client ID | --session ID | --token JTI | --grant ID) [--reason TEXT] --data-dir DIR [--config FILE]',
  options: {
    user: { type: 'string' },
    client: { type: 'string' },
    session: { type: 'string' },
    token: { type: 'string' },
    grant: { type: 'string' },
    reason: { type: 'string' },
  },
  async run(ctx) {
    const given = TARGETS.filter((t) => ctx.values[t] !== undefined);
    if (given.length !== 1) throw new UsageError('give exactly one of --user, --client, --session, --token, --grant');
    const kind = given[0] as RevocationKind;
    const value = ctx.values[kind] as string;
    if (value.trim() === '') throw new UsageError(`--${kind} needs a value`);
    return withAdmin(ctx.config(), async ({ storage, audit, actor, maxTokenTtlMs }) => {
      const { entry, removed } = await revoke({ storage, audit, maxTokenTtlMs }, { kind, value, by: actor, reason: ctx.values.reason });
      ctx.print({ revoked: { kind, value, id: entry.id, at: new Date(entry.revokedAt).toISOString(), artifactsRemoved: removed } }, `revoked ${kind} ${value}`);
      return ExitCode.Ok;
    });
  },
});
