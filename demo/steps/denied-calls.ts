import { Agent, describeRpcError } from '../lib/agent.ts';
import { check, type DemoContext, type DemoStep } from '../lib/context.ts';
import { issueToken } from './issue-token.ts';

const DENIED_CODE = -32003;

function expectPolicyDenial(ctx: DemoContext, error: { code: number; data?: unknown }, text: string): void {
  const data = error.data as { reason?: string } | undefined;
  check(error.code === DENIED_CODE && typeof data?.reason === 'string', `expected a policy denial (${DENIED_CODE} with a reason), got: ${text}`);
  ctx.ui.refused(text);
}

/** A user without any rule, and a tool outside alice's rule: both refused before any upstream sees them. */
export const deniedCallsStep: DemoStep = {
  title: 'Denied calls: a user without access, and a tool outside the rule',
  async run(ctx) {
    const { ui } = ctx;
    const bobToken = await issueToken(ctx, ctx.users.bob, { show: false });
    const bob = await Agent.connect(ctx, bobToken);
    try {
      const { tools } = await bob.client.listTools();
      ui.request('tools/list (as bob, group sales)');
      check(tools.length === 0, `bob has no rule but sees ${tools.length} tools`);
      ui.refused('0 tools: nothing is allowed for bob, so nothing is listed');
      const error = await bob.callExpectingError('files__read_text_file', { path: 'notes.md' });
      expectPolicyDenial(ctx, error, describeRpcError(error));
    } finally {
      await bob.close();
    }

    const aliceToken = ctx.tokens.get(ctx.users.alice.sub);
    check(aliceToken, 'no token for alice: the token step must run first');
    const alice = await Agent.connect(ctx, aliceToken);
    try {
      ui.say('alice asks for a tool her rule leaves out:');
      const error = await alice.callExpectingError('memory__delete_entities', { entityNames: ['Gatehouse'] });
      expectPolicyDenial(ctx, error, describeRpcError(error));
    } finally {
      await alice.close();
    }
    ui.say('Denied calls never reach an upstream; the refusal and its reason are in the audit log.');
  },
};
