import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { check, type DemoStep } from '../lib/context.ts';

/**
 * A destructive call (write_file overwrites) needs a second person: the call comes back
 * pending with an approval id; alice cannot approve her own request; carol, the approver for
 * the files server, can; the retry with the same arguments proceeds once; changed arguments
 * need a new approval.
 */
export const fourEyesStep: DemoStep = {
  title: 'Four-eyes approval: a destructive call waits for a second person, bound to its exact arguments',
  async run(ctx) {
    const { ui, paths } = ctx;
    check(ctx.signedIn, 'alice is not signed in: the OAuth step must run first');
    const { agent } = ctx.signedIn;
    const { alice, carol } = ctx.users;
    const config = ['--config', paths.configPath];
    const file = path.join(paths.filesDir, 'notes.md');
    const args = { path: 'notes.md', content: '# Notes\n\nWritten by an agent through Gatehouse, approved by a second person.\n' };

    ui.say("alice's agent writes a file. write_file is destructive, so policy eng-files answers require_approval (four-eyes):");
    const pending = await agent.callExpectingPending('files__write_file', args);
    check(!existsSync(file), 'notes.md exists although nobody approved the write');
    ui.say('Nothing was written. The request is stored with the arguments hash, announced to webhooks, and expires in 15 minutes.');

    const list = await ctx.show(['approvals', 'list', ...config], { expectExit: 0 });
    ui.output(list.stdout);
    check(list.stdout.includes(pending.id), `approvals list does not show ${pending.id}`);

    const self = await ctx.show(['approvals', 'approve', pending.id, '--as', alice.sub, ...config]);
    check(
      self.code === 1 && /self_approval/.test(self.stderr + self.stdout),
      `alice approving her own request should be refused (self_approval), got exit ${self.code}: ${(self.stderr || self.stdout).trim()}`,
    );
    ui.refused(self.stderr.trim().replace(/^gatehouse approvals approve: /, ''));

    const approved = await ctx.show(['approvals', 'approve', pending.id, '--as', carol.sub, '--note', 'checked the content', ...config], { expectExit: 0 });
    ui.ok(approved.stdout.trim().split('\n')[0] ?? '');

    ui.say('The agent retries with exactly the same arguments: the approval is used (once) and the call runs.');
    const written = await agent.call('files__write_file', args);
    check(/success/i.test(written), `the approved write did not succeed: ${written}`);
    check(readFileSync(file, 'utf8') === args.content, 'notes.md does not hold the approved content');

    ui.say('Changed arguments are a different call: the approval does not carry over (nor does it work twice).');
    const changed = { ...args, content: `${args.content}\nAnd one line nobody approved.\n` };
    const second = await agent.callExpectingPending('files__write_file', changed);
    check(second.id !== pending.id, 'changed arguments reused the earlier approval request');
    check(readFileSync(file, 'utf8') === args.content, 'notes.md changed without an approval');
    const denied = await ctx.show(['approvals', 'deny', second.id, '--as', carol.sub, '--note', 'not needed', ...config], { expectExit: 0 });
    ui.ok(denied.stdout.trim().split('\n')[0] ?? '');
    ui.say('Approvers can also decide in the web console (/console/approvals), signed in with a fresh second factor.');
  },
};
