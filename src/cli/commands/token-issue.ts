import { AuditKind, namedActor } from '../../audit/index.js';
import { UsageError } from '../../errors/index.js';
import { RuntimeKeys, tokenIdentity } from '../../runtime.js';
import { issueAccessToken, KeyRing } from '../../tokens/index.js';
import { parseDuration } from '../../util/duration.js';
import { userInfo } from 'node:os';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { withStorage, openCliAudit } from '../admin.js';

export const tokenIssueCommand = defineCommand(COMMAND_SPECS.tokenIssue, async (ctx) => {
  const sub = ctx.values.sub;
  if (!sub) throw new UsageError('--sub is required');
  const config = ctx.config();
  return withStorage(config, async (storage) => {
    // The running gateway publishes its token identity in the data dir; a config file can stand in.
    const published = await storage.settings.get(RuntimeKeys.audience);
    const identity = published
      ? { issuer: (await storage.settings.get(RuntimeKeys.issuer)) as string, audience: published }
      : ctx.values.config
        ? tokenIdentity(config.publicUrl)
        : undefined;
    if (!identity) {
      ctx.err('gatehouse token issue: no public URL is known for this data dir; start the gateway once or pass --config');
      return ExitCode.Failed;
    }
    const maxTtlMs = Number((await storage.settings.get(RuntimeKeys.maxTtlMs)) ?? config.tokens.maxTtl);
    const defaultTtlMs = Number((await storage.settings.get(RuntimeKeys.defaultTtlMs)) ?? config.tokens.defaultTtl);
    let ttlMs: number;
    try {
      ttlMs = ctx.values.ttl ? parseDuration(ctx.values.ttl) : defaultTtlMs;
    } catch (error) {
      throw new UsageError(`--ttl: ${(error as Error).message}`);
    }
    if (ttlMs <= 0 || ttlMs > maxTtlMs) throw new UsageError(`--ttl must be between 1s and ${maxTtlMs / 60_000}m`);
    const groups = (ctx.values.groups ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    const keys = await new KeyRing(storage.signingKeys, 'access-token').init();
    const issued = await issueAccessToken(
      keys,
      { ...identity, maxTtlMs },
      {
        sub,
        groups,
        ttlMs,
        clientId: 'gatehouse-cli',
        ...(ctx.values.scope ? { scope: ctx.values.scope } : {}),
      },
    );
    const audit = await openCliAudit(storage);
    await audit.append(
      AuditKind.TokenIssued,
      { actor: namedActor(`os:${safeUser()}`), issued: { sub, groups, jti: issued.jti, expiresAt: issued.expiresAt, via: 'cli' } },
      { durable: true },
    );
    await audit.close();
    ctx.out(issued.token);
    return ExitCode.Ok;
  });
});

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
