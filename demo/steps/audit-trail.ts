import type { DemoStep } from '../lib/context.ts';

/** Everything above, as the audit log recorded it. */
export const auditTrailStep: DemoStep = {
  title: 'The audit trail',
  async run(ctx) {
    ctx.ui.cmd(`gatehouse audit query --data-dir ${ctx.rel(ctx.paths.dataDir)}`);
    const { stdout } = await ctx.gatehouse(['audit', 'query', '--data-dir', ctx.paths.dataDir], { expectExit: 0 });
    ctx.ui.output(stdout);
    ctx.ui.say('Also: --user alice, --tool files__write_file, --since 10m, --json; `gatehouse audit export` writes JSON Lines.');
  },
};
