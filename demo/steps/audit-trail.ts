import { check, type DemoStep } from '../lib/context.ts';

/** Everything above, as the audit log recorded it: a count per kind, then the four-eyes story. */
export const auditTrailStep: DemoStep = {
  title: 'The audit trail: every decision, traceable to a human',
  async run(ctx) {
    const { ui, paths } = ctx;
    const all = await ctx.gatehouse(['audit', 'query', '--data-dir', paths.dataDir, '--limit', '100000', '--json'], { expectExit: 0 });
    const records = JSON.parse(all.stdout) as { kind: string }[];
    const counts = new Map<string, number>();
    for (const r of records) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    ui.say(`${records.length} records so far, by kind:`);
    const kinds = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
    for (let i = 0; i < kinds.length; i += 6) ui.output(kinds.slice(i, i + 6).join(' · '));
    for (const kind of ['auth.login', 'oauth.consent', 'oauth.token_issued', 'call.intent', 'call.denied', 'approval.decided', 'admin.revoke', 'vault.put']) {
      check(counts.has(kind), `the audit log has no ${kind} record`);
    }

    const tool = 'files__write_file';
    const story = await ctx.show(['audit', 'query', '--data-dir', paths.dataDir, '--tool', tool], { expectExit: 0 });
    ui.output(story.stdout);
    check(
      /approval\.refused.*self_approval/.test(story.stdout) && /approval\.decided\s+carol/.test(story.stdout),
      'the four-eyes story is not in the audit log',
    );
    ui.say('Who asked (alice, through which client and session), who refused and who approved, the arguments hash, and the call it');
    ui.say('unlocked. An intent record is durable before any server is called. Also --user, --kind, --since 10m, --json; `audit export` writes JSON Lines.');
  },
};
