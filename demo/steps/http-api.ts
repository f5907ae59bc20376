import { readFileSync } from 'node:fs';
import { Agent } from '../lib/agent.ts';
import { check, type DemoStep } from '../lib/context.ts';
import { invoicesApi } from '../lib/invoices-api.ts';
import { issueToken } from './issue-token.ts';

/**
 * The HTTP connector: an API described by an OpenAPI document becomes tools. The agent creates
 * an invoice; Gatehouse adds the API key from the vault to the outgoing request, so no byte the
 * agent sees holds it, and the audit record holds the real method, URL and status.
 */
export const httpApiStep: DemoStep = {
  title: 'An HTTP API as tools: alice creates an invoice; the API key stays in the vault',
  async run(ctx) {
    const { ui, paths } = ctx;
    const { key, baseUrl } = invoicesApi();
    const alice = ctx.users.alice;
    const token = await issueToken(ctx, alice, { show: false });
    const agent = await Agent.connect(ctx, token);
    const seen: string[] = [];
    try {
      const { tools } = await agent.client.listTools();
      const names = tools
        .filter((t) => t.name.startsWith('invoices__'))
        .map((t) => t.name)
        .sort();
      seen.push(JSON.stringify(tools));
      ui.request(`tools/list (as ${alice.sub})`);
      ui.ok(`${names.join(' ')}  (from examples/http/invoices.openapi.yaml; policy eng-invoices)`);
      check(names.join(',') === 'invoices__createInvoice,invoices__listInvoices', `unexpected invoices tools: ${names.join(', ')}`);

      const list = await agent.call('invoices__listInvoices', {});
      seen.push(list);
      check(list.includes('inv-1'), 'listInvoices did not return the example invoices');
      check(!list.includes('late payer'), 'listInvoices returned an internal note the field allow-list keeps from the agent');
      ui.ok('no internalNote: responses.listInvoices.fields keeps only id, customer, amount and status');

      const args = { body: { customer: 'Initech', amount: 420, currency: 'EUR' } };
      const created = await agent.call('invoices__createInvoice', args);
      seen.push(created);
      check(created.includes('Initech') && /inv-\d+/.test(created), 'createInvoice did not return the new invoice');
    } finally {
      await agent.close();
    }
    check(!seen.some((text) => text.includes(key)), 'the API key appears in what the agent received');
    ui.ok('the API key is in no tool list or result the agent received (the gateway added the X-Api-Key header itself)');

    const story = await ctx.show(['audit', 'query', '--data-dir', paths.dataDir, '--tool', 'invoices__createInvoice', '--json'], { expectExit: 0 });
    check(!story.stdout.includes(key), 'the API key appears in the audit log');
    check(!readFileSync(paths.logPath, 'utf8').includes(key), 'the API key appears in the gateway log');
    const records = JSON.parse(story.stdout) as Record<string, unknown>[];
    const text = JSON.stringify(records);
    check(
      text.includes('POST') && text.includes(`${baseUrl}/invoices`) && text.includes('201'),
      `the audit record lacks method/URL/status: ${text.slice(0, 600)}`,
    );
    for (const record of records) {
      const downstream = (record.notes as { downstream?: Record<string, unknown> } | undefined)?.downstream;
      ui.output(`#${String(record.seq)} ${String(record.kind)}${downstream ? `  ${JSON.stringify(downstream)}` : ''}`);
    }
    ui.ok(`audit: POST ${baseUrl}/invoices → 201, recorded for alice; the key is in neither the audit log nor the gateway log`);
  },
};
