import { check, type DemoStep } from '../lib/context.ts';

/** Recomputes the SHA-256 hash chain and checks the Ed25519-signed checkpoints. */
export const auditVerifyStep: DemoStep = {
  title: 'Verify the audit log (hash chain + signed checkpoints)',
  async run(ctx) {
    ctx.ui.cmd(`gatehouse audit verify --data-dir ${ctx.rel(ctx.paths.dataDir)}`);
    const result = await ctx.gatehouse(['audit', 'verify', '--data-dir', ctx.paths.dataDir]);
    check(result.code === 0, `audit verify exited ${result.code}: ${(result.stderr || result.stdout).trim()}`);
    ctx.ui.ok(result.stdout.trim());
    ctx.ui.say('Editing, deleting or reordering any row in the database makes this exit 1, naming the first broken record.');
  },
};
