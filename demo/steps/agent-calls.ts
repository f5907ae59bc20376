import { FILES_TOOLS_ALLOWED, MEMORY_TOOLS_ALLOWED } from '../lib/config.ts';
import { check, type DemoStep } from '../lib/context.ts';
import { INVOICES_TOOLS_ALLOWED } from '../lib/invoices-api.ts';
import { HELPDESK_TOOLS_ALLOWED } from '../lib/helpdesk.ts';
import { ITEMS_TOOLS_ALLOWED } from '../lib/items-setup.ts';

/** alice's signed-in agent lists tools (filtered by policy) and makes allowed calls on both servers. */
export const agentCallsStep: DemoStep = {
  title: "alice's agent: tools/list shows only what policy allows; allowed calls",
  async run(ctx) {
    const { ui } = ctx;
    check(ctx.signedIn, 'alice is not signed in: the OAuth step must run first');
    const { agent } = ctx.signedIn;
    const server = agent.client.getServerVersion();
    ui.ok(`session ${agent.sessionId?.slice(0, 12)}… with server "${server?.name}" ${server?.version ?? ''}`);

    const { tools } = await agent.client.listTools();
    const names = tools.map((t) => t.name);
    const byServer = (prefix: string) => names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
    ui.request('tools/list');
    ui.ok(`${names.length} tools, prefixed <server>__<tool> because ${new Set(names.map((n) => n.split('__')[0])).size} servers are aggregated:`);
    ui.say(`  files__  ${byServer('files__').join(' ')}`);
    ui.say(`  memory__ ${byServer('memory__').join(' ')}`);
    ui.say(`  invoices__ ${byServer('invoices__').join(' ')}   helpdesk__ ${byServer('helpdesk__').join(' ')}   items__ ${byServer('items__').join(' ')}`);
    ui.say('  (policy eng-files names six of the filesystem tools; eng-memory leaves out memory__delete_*: the rest are not listed)');
    const expected = [...FILES_TOOLS_ALLOWED, ...MEMORY_TOOLS_ALLOWED, ...INVOICES_TOOLS_ALLOWED, ...HELPDESK_TOOLS_ALLOWED, ...ITEMS_TOOLS_ALLOWED];
    check(
      expected.every((n) => names.includes(n)),
      `an allowed tool is missing from tools/list: ${expected.filter((n) => !names.includes(n)).join(', ')}`,
    );
    check(
      names.length === expected.length,
      `tools/list shows tools the policies do not allow: ${names.filter((n) => !(expected as readonly string[]).includes(n)).join(', ')}`,
    );

    ui.line();
    await agent.call('memory__create_entities', {
      entities: [{ name: 'Gatehouse', entityType: 'project', observations: ['guards the tools agents call', 'keeps a tamper-evident audit log'] }],
    });
    const found = await agent.call('memory__search_nodes', { query: 'Gatehouse' });
    check(found.includes('tamper-evident'), 'search_nodes did not find the entity just created');
    const info = await agent.call('files__get_file_info', { path: 'todo.txt' });
    check(/size/i.test(info), 'get_file_info returned no file information');
    ui.say('Each call passed authenticate → validate → authorize (Cedar) → rate-limit → audit intent (durable first) → execute → audit result.');
  },
};
