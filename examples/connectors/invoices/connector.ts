// An example connector: the invoices API (examples/http/invoices-api.mjs) as three tools.
// It runs in its own sandboxed process; the API key comes from the gateway's vault, one call
// at a time, and every request goes out through the gateway's egress guard.
import { defineConnector, defineTool, type ToolContext } from 'mcp-gatehouse/connector';
import { z } from 'zod';

async function api(ctx: ToolContext, path: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
  const key = await ctx.credential('api');
  const base = String(ctx.settings.baseUrl ?? '');
  const response = await ctx.fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...key.headers, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  if (response.status === 404) return { error: 'not found' };
  if (!response.ok) throw new Error(`the invoices API answered ${response.status}`);
  return response.status === 204 ? { deleted: true } : response.json();
}

/** What the agent sees of an invoice: never the internal note. */
function visible(invoice: Record<string, unknown>) {
  const { id, customer, amount, currency, status } = invoice;
  return { id, customer, amount, currency, status };
}

export default defineConnector({
  name: 'invoices',
  tools: [
    defineTool({
      name: 'list_invoices',
      description: 'List invoices, optionally by status.',
      input: z.object({ status: z.enum(['draft', 'sent', 'paid']).optional() }),
      effect: 'read',
      classification: 'internal',
      handler: async (ctx, args) => {
        const query = args.status ? `?status=${encodeURIComponent(args.status)}` : '';
        const page = (await api(ctx, `/invoices${query}`)) as { items: Record<string, unknown>[] };
        ctx.log.info('listed invoices', { count: page.items.length });
        return { items: page.items.map(visible) };
      },
    }),
    defineTool({
      name: 'create_invoice',
      description: 'Create a draft invoice.',
      input: z.object({ customer: z.string().min(1).max(200), amount: z.number().int().positive() }),
      effect: 'write',
      classification: 'confidential',
      handler: async (ctx, args) => visible((await api(ctx, '/invoices', { method: 'POST', body: args })) as Record<string, unknown>),
    }),
    defineTool({
      name: 'delete_invoice',
      description: 'Delete an invoice.',
      input: z.object({ id: z.string().regex(/^inv-[0-9]{1,9}$/) }),
      effect: 'destructive',
      handler: async (ctx, args) => api(ctx, `/invoices/${args.id}`, { method: 'DELETE' }),
    }),
  ],
});
