import { DatabaseSync } from 'node:sqlite';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { check, type DemoStep } from '../lib/context.ts';

/**
 * Recomputes the SHA-256 hash chain and checks the Ed25519-signed checkpoints; anchors the head
 * for safekeeping off-host; then shows a rewritten record being caught, on a copy.
 */
export const auditVerifyStep: DemoStep = {
  title: 'Verify the audit log: hash chain, signed checkpoints, an off-host anchor, and a forgery caught',
  async run(ctx) {
    const { ui, paths } = ctx;
    const anchorFile = path.join(paths.demoDir, 'audit-anchor.json');
    const anchored = await ctx.show(['audit', 'anchor', '--data-dir', paths.dataDir, '--out', anchorFile], { expectExit: 0 });
    ui.ok(`${(anchored.stderr || anchored.stdout).trim()}: a signed {seq, hash} for the gateway's host never to rewrite`);
    const verified = await ctx.show(['audit', 'verify', '--data-dir', paths.dataDir, '--anchor', anchorFile]);
    check(verified.code === 0, `audit verify exited ${verified.code}: ${(verified.stderr || verified.stdout).trim()}`);
    ui.ok(verified.stdout.trim());

    // A consistent copy of the live database, then one rewritten record: who approved the write.
    const copyDir = path.join(paths.demoDir, 'tampered');
    rmSync(copyDir, { recursive: true, force: true });
    mkdirSync(copyDir, { recursive: true });
    const copy = path.join(copyDir, 'gatehouse.db');
    const live = new DatabaseSync(path.join(paths.dataDir, 'gatehouse.db'), { readOnly: true });
    try {
      live.exec(`VACUUM INTO '${copy.replace(/'/g, "''")}'`);
    } finally {
      live.close();
    }
    const db = new DatabaseSync(copy);
    let seq: number;
    try {
      const row = db.prepare("SELECT seq FROM audit_records WHERE kind = 'approval.decided' ORDER BY seq LIMIT 1").get() as { seq: number } | undefined;
      check(row, 'no approval.decided record to tamper with');
      seq = row.seq;
      db.prepare('UPDATE audit_records SET body = replace(body, \'"carol"\', \'"mallory"\') WHERE seq = ?').run(seq);
    } finally {
      db.close();
    }
    ui.say(`On a copy (${ctx.rel(copyDir)}/), record #${seq} is rewritten so that "mallory" approved the write instead of carol:`);
    const caught = await ctx.show(['audit', 'verify', '--data-dir', copyDir]);
    check(
      caught.code === 1 && (caught.stdout + caught.stderr).includes(`#${seq}`),
      `audit verify should exit 1 naming record #${seq}, got exit ${caught.code}: ${(caught.stderr || caught.stdout).trim()}`,
    );
    ui.refused(`exit 1: ${(caught.stderr || caught.stdout).trim()}`);
    rmSync(copyDir, { recursive: true, force: true });
    ui.say('Deleting or reordering rows is caught the same way; a rewrite of the whole chain is caught by the anchor kept off-host.');
  },
};
