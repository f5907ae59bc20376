import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { AuditLog, verifyAuditLog, type AuditAnchor } from '../../audit/index.js';
import { silentLogger } from '../../log/index.js';
import { KeyRing } from '../../tokens/index.js';
import { UsageError } from '../../errors/index.js';
import type { StoredAuditRecord } from '../../storage/index.js';
import { DURATION_WITH_UNIT, parseDuration } from '../../util/duration.js';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { withStorage } from '../admin.js';

/** Reads anchor files written by `audit anchor` (one JSON object per file, or JSON Lines). */
function readAnchors(files: readonly string[]): AuditAnchor[] {
  const anchors: AuditAnchor[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--anchor: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
      let value: Partial<AuditAnchor>;
      try {
        value = JSON.parse(line) as Partial<AuditAnchor>;
      } catch {
        throw new UsageError(`--anchor: ${file} is not JSON`);
      }
      if (typeof value.seq !== 'number' || typeof value.hash !== 'string' || typeof value.kid !== 'string')
        throw new UsageError(`--anchor: ${file} is not an audit anchor`);
      anchors.push({ seq: value.seq, hash: value.hash, kid: value.kid });
    }
  }
  return anchors;
}

export const auditVerifyCommand = defineCommand(COMMAND_SPECS.auditVerify, async (ctx) => {
  const anchors = readAnchors(ctx.values.anchor ?? []);
  return withStorage(ctx.config(), async (storage) => {
    const result = await verifyAuditLog(storage.audit, storage.signingKeys, anchors);
    if (result.ok) {
      const anchored = anchors.length > 0 ? `, ${anchors.length} anchor(s) matched` : '';
      ctx.print(
        { ...result, anchors: anchors.length },
        `audit log intact: ${result.records} records, ${result.checkpoints} signed checkpoints, head #${result.headSeq}${anchored}`,
      );
      return ExitCode.Ok;
    }
    if (ctx.values.json) ctx.print(result, '');
    else ctx.err(`audit log BROKEN at record #${result.brokenSeq}: ${result.reason} (${result.records} records verified before it)`);
    return ExitCode.Failed;
  });
});

export const auditAnchorCommand = defineCommand(COMMAND_SPECS.auditAnchor, async (ctx) => {
  return withStorage(ctx.config(), async (storage) => {
    const keys = await new KeyRing(storage.signingKeys, 'audit').init();
    const audit = new AuditLog(storage.audit, keys, silentLogger(), { checkpointEvery: 1_000_000, checkpointIntervalMs: 3_600_000 });
    const head = await storage.audit.head();
    if (!head) {
      ctx.err('gatehouse audit anchor: the audit log is empty');
      return ExitCode.Failed;
    }
    await audit.checkpoint();
    const checkpoint = (await storage.audit.checkpoints()).find((c) => c.seq === head.seq);
    const anchor = { seq: head.seq, hash: head.hash, kid: keys.signingKey().kid, ts: new Date().toISOString(), signature: checkpoint?.signature };
    const line = JSON.stringify(anchor);
    if (ctx.values.out) {
      writeFileSync(ctx.values.out, `${line}\n`, { mode: 0o600, flag: 'a' });
      ctx.err(`anchored #${head.seq} to ${ctx.values.out}; keep a copy off this machine`);
    } else ctx.out(line);
    return ExitCode.Ok;
  });
});

/** `--since` takes a duration back from now (`1h`) or an ISO timestamp. */
export function parseSince(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (DURATION_WITH_UNIT.test(value)) return now - parseDuration(value);
  const ts = Date.parse(value);
  if (Number.isNaN(ts)) throw new UsageError(`--since: expected a duration like 1h or an ISO date, got "${value}"`);
  return ts;
}

function toJsonLine(record: StoredAuditRecord): string {
  return JSON.stringify({
    seq: record.seq,
    ts: new Date(record.ts).toISOString(),
    kind: record.kind,
    ...JSON.parse(record.body),
    hash: record.hash,
    prevHash: record.prevHash,
  });
}

export const auditQueryCommand = defineCommand(COMMAND_SPECS.auditQuery, async (ctx) => {
  const limit = ctx.values.limit ? Number(ctx.values.limit) : 100;
  if (!Number.isInteger(limit) || limit <= 0) throw new UsageError('--limit must be a positive integer');
  return withStorage(ctx.config(), async (storage) => {
    const since = parseSince(ctx.values.since);
    const records = await storage.audit.query({
      ...(ctx.values.user ? { sub: ctx.values.user } : {}),
      ...(ctx.values.tool ? { tool: ctx.values.tool } : {}),
      ...(ctx.values.kind ? { kinds: ctx.values.kind } : {}),
      ...(since !== undefined ? { since } : {}),
      limit,
    });
    if (ctx.values.json) {
      ctx.out(
        JSON.stringify(
          records.map((r) => JSON.parse(toJsonLine(r)) as unknown),
          null,
          2,
        ),
      );
      return ExitCode.Ok;
    }
    for (const record of records) {
      const body = JSON.parse(record.body) as {
        actor?: { sub?: string };
        target?: { tool?: string; resource?: string; server?: string };
        decision?: { effect?: string; reason?: string };
        outcome?: { status?: string; code?: string };
        method?: string;
      };
      const target = body.target?.tool ?? body.target?.resource ?? body.target?.server ?? '';
      const verdict = body.outcome?.status ?? body.decision?.effect ?? '';
      ctx.out(
        [
          `#${record.seq}`,
          new Date(record.ts).toISOString(),
          record.kind.padEnd(14),
          (body.actor?.sub ?? '-').padEnd(10),
          body.method ?? '',
          target,
          verdict,
          body.decision?.reason ?? body.outcome?.code ?? '',
        ]
          .filter((part) => part !== '')
          .join('  '),
      );
    }
    if (records.length === 0) ctx.err('no matching audit records');
    return ExitCode.Ok;
  });
});

export const auditExportCommand = defineCommand(COMMAND_SPECS.auditExport, async (ctx) => {
  const out = ctx.values.out ? createWriteStream(ctx.values.out, { mode: 0o600 }) : ctx.io.stdout;
  return withStorage(ctx.config(), async (storage) => {
    const since = parseSince(ctx.values.since);
    let afterSeq = 0;
    let written = 0;
    for (;;) {
      const page = await storage.audit.query({ afterSeq, limit: 5000, ...(since !== undefined ? { since } : {}) });
      for (const record of page) {
        if (!out.write(`${toJsonLine(record)}\n`)) await once(out, 'drain');
        written++;
      }
      if (page.length < 5000) break;
      afterSeq = (page[page.length - 1] as StoredAuditRecord).seq;
    }
    if (ctx.values.out) {
      (out as NodeJS.WritableStream & { end(cb: () => void): void }).end(() => undefined);
      await once(out, 'finish');
      ctx.err(`exported ${written} records to ${ctx.values.out}`);
    }
    return ExitCode.Ok;
  });
});
