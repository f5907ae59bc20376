import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { visibleText } from '../../approvals/index.js';
import type { LoadedConfig } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
// Module by module: the pinning room's index also loads the upstream connector and the SDK.
import { approvePin } from '../../pinning/approve-pin.js';
import { describeEffect, effectiveAnnotations } from '../../pinning/effective-annotations.js';
import { parseDefinition, pinReview } from '../../pinning/review.js';
import type { ToolPinRecord } from '../../storage/index.js';
import { withAdmin } from '../admin.js';
import { defineCommand, ExitCode, type CommandContext } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';

/** `server__tool`: the server name never contains "__", so the first one separates. */
function parseQualified(value: string): { server: string; tool: string } {
  const at = value.indexOf('__');
  if (at <= 0 || at + 2 >= value.length) throw new UsageError(`"${value}" is not a qualified tool name (SERVER__TOOL)`);
  return { server: value.slice(0, at), tool: value.slice(at + 2) };
}

interface ToolSummary {
  server: string;
  tool: string;
  state: 'approved' | 'quarantined';
  /** Why it is quarantined (`new`, `changed`, `poisoned`), or how the approved definition was pinned. */
  reason: string;
  approved?: { digest: string; by: string | undefined; at: string | undefined; reason: string } | undefined;
  pending?: { digest: string; reason: string; findings: string[]; seenAt: string } | undefined;
  declared: ToolAnnotations | undefined;
  effective: ToolAnnotations | undefined;
  declaredEffect: string;
  effectiveEffect: string;
  findings: string[];
}

/** Rows of one tool (newest first) → what `tools list` shows. */
function summarize(config: LoadedConfig | undefined, rows: ToolPinRecord[]): ToolSummary {
  const first = rows[0] as ToolPinRecord;
  const approved = rows.find((r) => r.state === 'approved');
  const pending = rows.find((r) => r.state === 'pending');
  // What the upstream claims now: the newest definition awaiting review, else the approved one.
  const current = pending ?? approved ?? first;
  const declared = parseDefinition(current).annotations as ToolAnnotations | undefined;
  const server = config?.servers[first.server];
  const configured = server && 'tools' in server ? server.tools[first.tool]?.annotations : undefined;
  const effective = effectiveAnnotations(declared, configured);
  return {
    server: first.server,
    tool: first.tool,
    state: pending ? 'quarantined' : 'approved',
    reason: pending ? pending.reason : (approved?.reason ?? first.reason),
    ...(approved
      ? {
          approved: {
            digest: approved.digest,
            by: approved.decidedBy,
            at: approved.decidedAt ? new Date(approved.decidedAt).toISOString() : undefined,
            reason: approved.reason,
          },
        }
      : {}),
    ...(pending
      ? { pending: { digest: pending.digest, reason: pending.reason, findings: pending.findings, seenAt: new Date(pending.firstSeenAt).toISOString() } }
      : {}),
    declared,
    effective,
    declaredEffect: describeEffect(declared),
    effectiveEffect: describeEffect(effective),
    findings: current.findings,
  };
}

function groupByTool(rows: ToolPinRecord[]): ToolPinRecord[][] {
  const groups = new Map<string, ToolPinRecord[]>();
  for (const row of rows) {
    const key = `${row.server}\u0000${row.tool}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(row);
  }
  return [...groups.values()];
}

function configOrUndefined(ctx: CommandContext<unknown>): LoadedConfig {
  return ctx.config();
}

export const toolsListCommand = defineCommand(COMMAND_SPECS.toolsList, async (ctx) => {
  const config = configOrUndefined(ctx as never);
  return withAdmin(config, async ({ storage }) => {
    const summaries = groupByTool(await storage.toolPins.list(ctx.values.server))
      .map((rows) => summarize(ctx.values.config ? config : undefined, rows))
      .filter((s) => !ctx.values.quarantined || s.state === 'quarantined');
    const text =
      summaries.length === 0
        ? `no pinned tools${ctx.values.server ? ` for server "${ctx.values.server}"` : ''} (tools are pinned when the gateway first loads a server's catalog)`
        : [
            `${'TOOL'.padEnd(32)} ${'STATE'.padEnd(24)} ${'DECLARED'.padEnd(26)} EFFECTIVE`,
            ...summaries.map((s) => {
              const state = s.state === 'quarantined' ? `quarantined (${s.reason})` : `approved (${s.reason})`;
              return `${visibleText(`${s.server}__${s.tool}`).padEnd(32)} ${state.padEnd(24)} ${s.declaredEffect.padEnd(26)} ${s.effectiveEffect}${s.findings.length ? `  [flagged: ${s.findings.join(', ')}]` : ''}`;
            }),
          ].join('\n');
    ctx.print(summaries, text);
    return ExitCode.Ok;
  });
});

export const toolsDiffCommand = defineCommand(COMMAND_SPECS.toolsDiff, async (ctx) => {
  const { server, tool } = parseQualified(ctx.positionals[0] as string);
  return withAdmin(ctx.config(), async ({ storage }) => {
    const rows = await storage.toolPins.forTool(server, tool);
    if (rows.length === 0) {
      ctx.err(`gatehouse tools diff: no pinned tool ${server}__${tool}`);
      return ExitCode.Failed;
    }
    const review = pinReview(rows, ctx.values.digest);
    if (!review) {
      const approved = rows.find((r) => r.state === 'approved');
      ctx.print(
        { tool: `${server}__${tool}`, pending: null, approved: approved ? { digest: approved.digest } : null },
        `${server}__${tool}: nothing awaits review${approved ? ` (approved ${approved.digest.slice(0, 12)})` : ''}`,
      );
      return ExitCode.Failed;
    }
    const { approved, pending, diff } = review;
    const data = {
      tool: `${server}__${tool}`,
      reason: pending.reason,
      findings: pending.findings,
      approved: approved ? { digest: approved.digest, definition: parseDefinition(approved) } : null,
      pending: { digest: pending.digest, state: pending.state, seenAt: new Date(pending.firstSeenAt).toISOString(), definition: parseDefinition(pending) },
      diff,
    };
    const text = [
      `${server}__${tool}: quarantined (${pending.reason})${pending.findings.length ? `, description flagged: ${pending.findings.join(', ')}` : ''}`,
      `--- approved ${approved ? approved.digest : '(none: the tool is new)'}`,
      `+++ pending  ${pending.digest} (seen ${new Date(pending.firstSeenAt).toISOString()})`,
      ...diff,
      '',
      `approve with: gatehouse tools approve ${server}__${tool} --digest ${pending.digest.slice(0, 16)} --as YOUR_NAME`,
    ].join('\n');
    ctx.print(data, text);
    return ExitCode.Ok;
  });
});

export const toolsApproveCommand = defineCommand(COMMAND_SPECS.toolsApprove, async (ctx) => {
  const { server, tool } = parseQualified(ctx.positionals[0] as string);
  const as = ctx.values.as?.trim();
  if (!as) throw new UsageError('--as USER is required: who approves');
  if (as.length > 256 || /[\u0000-\u001f\u007f]/.test(as)) throw new UsageError('--as must be a user name (no control characters, at most 256 characters)');
  if (ctx.values.digest !== undefined && !/^[0-9a-f]{8,64}$/.test(ctx.values.digest)) throw new UsageError('--digest must be 8 to 64 hex digits');
  return withAdmin(ctx.config(), async ({ storage, audit, actor }) => {
    const rows = await storage.toolPins.forTool(server, tool);
    const review = pinReview(rows, ctx.values.digest);
    if (!review) {
      const why =
        rows.length === 0
          ? `no pinned tool ${server}__${tool}`
          : ctx.values.digest
            ? `no definition ${ctx.values.digest} awaiting review for ${server}__${tool}`
            : `nothing awaits review for ${server}__${tool}`;
      ctx.print({ ok: false, tool: `${server}__${tool}`, error: why }, `gatehouse tools approve: ${why}`);
      return ExitCode.Failed;
    }
    const user = await storage.users.get(as);
    if (user && user.disabledAt !== null) {
      ctx.print({ ok: false, error: `user "${as}" is disabled` }, `gatehouse tools approve: user "${as}" is disabled`);
      return ExitCode.Failed;
    }
    const { approved, pending } = review;
    await approvePin({ store: storage.toolPins, audit }, review, { sub: as, via: 'cli', osUser: actor });
    ctx.print(
      { ok: true, tool: `${server}__${tool}`, digest: pending.digest, approvedBy: as, previous: approved?.digest ?? null },
      `approved ${server}__${tool} (${pending.digest.slice(0, 16)}) as ${as}; agents see it from their next request`,
    );
    return ExitCode.Ok;
  });
});
