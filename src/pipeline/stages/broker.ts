import type { Broker } from '../../vault/index.js';
import type { CallContext, Stage } from '../types.js';

/** `_meta` key a client may use to state why it makes a call. Recorded, never trusted. */
export const PURPOSE_META_KEY = 'io.gatehouse/purpose';
const MAX_STATED = 200;

/**
 * The purpose carried into the lease, the audit records and the downstream system
 * (`gatehouse.purpose`): the tool, plus the client's stated reason when it gave one.
 */
export function callPurpose(ctx: CallContext): string {
  const meta = ctx.params._meta as Record<string, unknown> | undefined;
  const stated = typeof meta?.[PURPOSE_META_KEY] === 'string' ? (meta[PURPOSE_META_KEY] as string) : undefined;
  // Control characters would let a stated reason forge structure in logs or the database.
  const clean = stated
    ?.replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, MAX_STATED);
  return clean ? `${ctx.op.id} (stated: ${clean})` : ctx.op.id;
}

/**
 * Runs after the intent record is durable. For servers whose credentials are minted just in
 * time (the PostgreSQL connector), it entitles the call to a lease; the connector asks the
 * broker for it when it is about to touch the downstream system. (What comes back is checked
 * by the `sanitize` stage inside this one, and again where it leaves for the client.)
 */
export function brokerStage(broker: Broker): Stage {
  return {
    name: 'broker',
    adds: ['credential', 'notes.lease'],
    async run(ctx, next) {
      if (ctx.op.action !== 'list' && broker.handles(ctx.op.server)) {
        broker.attach(ctx, {
          actor: { sub: ctx.principal.sub, groups: ctx.principal.groups },
          connector: ctx.op.server,
          purpose: callPurpose(ctx),
          requestId: ctx.requestId,
        });
      }
      return next();
    },
  };
}
