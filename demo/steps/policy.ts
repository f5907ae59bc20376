import type { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describeRpcError } from '../lib/agent.ts';
import { RATE_LIMITED_TOOL } from '../lib/config.ts';
import { check, type DemoContext, type DemoStep } from '../lib/context.ts';
import { oneLine } from '../lib/ui.ts';

const DENIED = -32003;
const INVALID_PARAMS = -32602;
const RATE_LIMITED = -32013;

/** `gatehouse policy explain` for one call; prints its answer (the long context line cut). */
async function explain(ctx: DemoContext, tool: string, args: Record<string, unknown>, expected: 'allow' | 'deny'): Promise<void> {
  const alice = ctx.users.alice;
  const { stdout } = await ctx.show(
    [
      'policy',
      'explain',
      '--config',
      ctx.paths.configPath,
      '--user',
      alice.sub,
      '--groups',
      alice.groups.join(','),
      '--tool',
      tool,
      '--args',
      JSON.stringify(args),
    ],
    { expectExit: 0 },
  );
  const first = stdout.split('\n')[0] ?? '';
  check(new RegExp(`^decision: ${expected}\\b`).test(first), `policy explain said "${first}", expected ${expected}`);
  ctx.ui.output(
    stdout
      .trimEnd()
      .split('\n')
      .map((line) => (line.length > 160 ? `${line.slice(0, 159)}…` : line))
      .join('\n'),
  );
}

function expectRefusal(ctx: DemoContext, error: McpError, code: number, reason: string, policy?: string): void {
  const data = error.data as { reason?: string; policy?: string } | undefined;
  const text = describeRpcError(error);
  check(
    error.code === code && data?.reason === reason && (policy === undefined || data.policy === policy),
    `expected ${code} with reason ${reason}${policy ? ` and policy ${policy}` : ''}, got: ${text}`,
  );
  ctx.ui.refused(text);
}

/** Cedar decides every call: explain a decision, then the refusals as the agent sees them. */
export const policyStep: DemoStep = {
  title: 'Cedar policy: explain a decision; denials, bad arguments and a rate limit as the agent sees them',
  async run(ctx) {
    const { ui } = ctx;
    check(ctx.signedIn, 'alice is not signed in: the OAuth step must run first');
    const { agent } = ctx.signedIn;
    ui.say(`The policies in force are ${ctx.rel(ctx.paths.policiesDir)}/*.cedar. An operator can ask what they decide, without any agent:`);
    await explain(ctx, 'memory__search_nodes', { query: 'Gatehouse' }, 'allow');
    await explain(ctx, 'files__read_text_file', { path: 'private/salaries.csv' }, 'deny');

    ui.line();
    ui.say("The same call from alice's agent: a JSON-RPC error with a stable reason id and the deciding policy.");
    expectRefusal(
      ctx,
      await agent.callExpectingError('files__read_text_file', { path: 'private/salaries.csv' }),
      DENIED,
      'path_not_allowed',
      'no-private-files',
    );
    ui.say('A tool hidden from her tools/list, called by name anyway: default deny.');
    expectRefusal(ctx, await agent.callExpectingError('memory__delete_entities', { entityNames: ['Gatehouse'] }), DENIED, 'not_allowed', 'default-deny');
    ui.say("Arguments are checked against the tool's inputSchema before any policy runs, and nothing is forwarded:");
    expectRefusal(ctx, await agent.callExpectingError('files__read_text_file', { path: 42 }), INVALID_PARAMS, 'invalid_arguments');

    ui.line();
    const { name, burst, window } = RATE_LIMITED_TOOL;
    ui.say(`Rate limits (per user, per tool, per client): gatehouse.yaml gives ${name} a burst of ${burst}/${window} per user.`);
    for (let i = 1; i <= burst; i++) {
      const result = await agent.client.callTool({ name, arguments: {} });
      check(!result.isError, `${name} call ${i} of ${burst} failed: ${oneLine(JSON.stringify(result.content))}`);
    }
    ui.request(`${name} {} ×${burst}`);
    ui.ok(`${burst} calls answered`);
    const limited = await agent.callExpectingError(name, {});
    expectRefusal(ctx, limited, RATE_LIMITED, 'rate_limited');
    const retryAfterMs = (limited.data as { retryAfterMs?: number } | undefined)?.retryAfterMs;
    check(typeof retryAfterMs === 'number' && retryAfterMs > 0, 'the rate-limit error carries no retryAfterMs');
    ui.say(`The agent may retry after ${(retryAfterMs / 1000).toFixed(1)} s. Refused calls never reach a server; each refusal is audited as call.denied.`);
  },
};
