import { AuditKind, namedActor } from '../../audit/index.js';
import { UsageError } from '../../errors/index.js';
import { KeyRing } from '../../tokens/index.js';
import { withAdmin } from '../admin.js';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';

export const keysRotateCommand = defineCommand(COMMAND_SPECS.keysRotate, async (ctx) => {
  const use = ctx.values.use ?? 'access-token';
  if (use !== 'access-token' && use !== 'audit') throw new UsageError('--use must be access-token or audit');
  return withAdmin(ctx.config(), async ({ storage, audit, actor, maxTokenTtlMs }) => {
    const keys = await new KeyRing(storage.signingKeys, use).init();
    const previous = keys.signingKey().kid;
    const kid = await keys.rotate(maxTokenTtlMs + 60_000);
    await audit.append(AuditKind.KeyRotated, { actor: namedActor(actor), key: { use, previous, current: kid } }, { durable: true });
    ctx.print({ use, previous, current: kid }, `${use} signing key rotated: ${previous} → ${kid}`);
    return ExitCode.Ok;
  });
});
