import { Agent } from '../lib/agent.ts';
import { MEMORY_TOOLS_ALLOWED } from '../lib/config.ts';
import { check, type DemoStep } from '../lib/context.ts';

/** alice's agent (official MCP SDK client) lists tools and makes allowed calls on both servers. */
export const agentCallsStep: DemoStep = {
  title: "alice's agent: list tools, then allowed calls (official MCP SDK client)",
  async run(ctx) {
    const { ui } = ctx;
    const token = ctx.tokens.get(ctx.users.alice.sub);
    check(token, 'no token for alice: the token step must run first');
    const agent = await Agent.connect(ctx, token);
    try {
      const server = agent.client.getServerVersion();
      ui.ok(`connected to ${ctx.mcpUrl} as alice: server "${server?.name}" ${server?.version ?? ''}, session ${agent.sessionId?.slice(0, 12)}…`);

      const { tools } = await agent.client.listTools();
      const names = tools.map((t) => t.name);
      const byServer = (prefix: string) => names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
      ui.request('tools/list');
      ui.ok(`${names.length} tools, prefixed <server>__<tool> because two servers are aggregated:`);
      ui.say(`  files__  ${byServer('files__').join(' ')}`);
      ui.say(`  memory__ ${byServer('memory__').join(' ')}`);
      ui.say('  (memory__delete_* are absent: her rule does not allow them)');
      check(names.includes('files__write_file') && names.includes('files__read_text_file'), 'files__write_file / files__read_text_file are missing from tools/list');
      check(MEMORY_TOOLS_ALLOWED.every((n) => names.includes(n)), 'an allowed memory tool is missing from tools/list');
      check(!names.some((n) => n.startsWith('memory__delete_')), 'tools/list shows a memory delete tool that her rule does not allow');
      check(names.every((n) => n.startsWith('files__') || n.startsWith('memory__')), 'a tool name is not prefixed with its server');

      ui.line();
      const listing = await agent.call('files__list_directory', { path: '.' });
      check(listing.includes('README.md'), 'list_directory does not show the demo files');
      const content = '# Notes\n\nWritten by an agent through Gatehouse.\n';
      await agent.call('files__write_file', { path: 'notes.md', content });
      const read = await agent.call('files__read_text_file', { path: 'notes.md' });
      check(read === content, `read_text_file returned different content than was written: ${JSON.stringify(read)}`);
      await agent.call('memory__create_entities', {
        entities: [{ name: 'Gatehouse', entityType: 'project', observations: ['guards the tools agents call', 'keeps a tamper-evident audit log'] }],
      });
      const found = await agent.call('memory__search_nodes', { query: 'Gatehouse' });
      check(found.includes('tamper-evident'), 'search_nodes did not find the entity just created');
    } finally {
      await agent.close();
    }
    ui.say('Each call passed authenticate → authorize → audit intent (durable before the upstream call) → execute → audit result.');
  },
};
