import { Agent, describeRpcError } from '../lib/agent.ts';
import { check, type DemoStep } from '../lib/context.ts';
import { issueToken } from './issue-token.ts';

/**
 * Agents that run unattended (CI jobs, scheduled reports) have no person to sign in: the
 * operator mints them a short-lived token. Policy treats them like anyone else.
 */
export const serviceAgentStep: DemoStep = {
  title: 'A service agent with an operator-minted token (gatehouse token issue): only what its group may do',
  async run(ctx) {
    const { ui } = ctx;
    const bot = ctx.users.reportBot;
    const token = await issueToken(ctx, bot);
    const agent = await Agent.connect(ctx, token);
    try {
      const { tools } = await agent.client.listTools();
      const names = tools.map((t) => t.name).sort();
      ui.request(`tools/list (as ${bot.sub}, group ${bot.groups.join(',')})`);
      ui.ok(`${names.length} tools: ${names.join(' ')}  (policy reporting-reads-memory: read-only memory tools)`);
      check(names.length > 0 && names.every((n) => n.startsWith('memory__')), `the service agent sees tools outside its policy: ${names.join(', ')}`);
      check(!names.includes('memory__create_entities'), 'the service agent sees a tool that is not read-only');
      const found = await agent.call('memory__open_nodes', { names: ['Gatehouse'] });
      check(found.includes('Gatehouse'), 'open_nodes did not return the entity alice created');
      const error = await agent.callExpectingError('files__read_text_file', { path: 'notes.md' });
      const data = error.data as { reason?: string } | undefined;
      check(error.code === -32003 && data?.reason === 'not_allowed', `expected a default-deny refusal, got: ${describeRpcError(error)}`);
      ui.refused(describeRpcError(error));
    } finally {
      await agent.close();
    }
    ui.say('Each issuance is audited (admin.token_issued, with the OS user who ran it); the token lives 5 minutes by default, 15 at most.');
  },
};
