// The example connector's own tests: its handlers run in this process with callTool, with a
// stand-in for the gateway's fetch and the credential the gateway would lend.
import { callTool } from 'mcp-gatehouse/connector';
import { describe, expect, it } from 'vitest';
import invoices from './connector.ts';

const KEY = { headers: { 'x-api-key': 'test-key' } };
const settings = { baseUrl: 'https://invoices.example/v1' };

function api(routes: Record<string, (body: string | undefined) => Response>) {
  const seen: { method: string; url: string; headers: Record<string, string>; body?: string | undefined }[] = [];
  const fetch = async (url: string, init: { method: string; headers: Record<string, string>; body?: string | undefined }) => {
    seen.push({ url, ...init });
    const route = routes[`${init.method} ${url}`];
    return route ? route(init.body) : new Response('{"error":"not found"}', { status: 404 });
  };
  return { fetch, seen };
}
const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

describe('invoices connector', () => {
  it('lists invoices with the lent key, without the internal note', async () => {
    const { fetch, seen } = api({
      'GET https://invoices.example/v1/invoices?status=sent': () =>
        json({ items: [{ id: 'inv-1', customer: 'ACME', amount: 10, currency: 'EUR', status: 'sent', internalNote: 'late payer' }] }),
    });
    const out = await callTool(invoices, 'list_invoices', { status: 'sent' }, { credentials: { api: KEY }, fetch, settings });
    expect(out).toEqual({ items: [{ id: 'inv-1', customer: 'ACME', amount: 10, currency: 'EUR', status: 'sent' }] });
    expect(seen[0]?.headers['x-api-key']).toBe('test-key');
    expect(JSON.stringify(out)).not.toContain('late payer');
  });

  it('creates an invoice with a JSON body', async () => {
    const { fetch, seen } = api({
      'POST https://invoices.example/v1/invoices': (body) => json({ id: 'inv-3', status: 'draft', internalNote: 'x', ...JSON.parse(body ?? '{}') }, 201),
    });
    const out = await callTool(invoices, 'create_invoice', { customer: 'Globex', amount: 300 }, { credentials: { api: KEY }, fetch, settings });
    expect(out).toMatchObject({ id: 'inv-3', customer: 'Globex', amount: 300, status: 'draft' });
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ customer: 'Globex', amount: 300 });
  });

  it('refuses bad arguments before any request', async () => {
    const { fetch, seen } = api({});
    await expect(callTool(invoices, 'create_invoice', { customer: 'A', amount: 0 }, { credentials: { api: KEY }, fetch, settings })).rejects.toThrow(/amount/);
    await expect(callTool(invoices, 'delete_invoice', { id: '../admin' }, { credentials: { api: KEY }, fetch, settings })).rejects.toThrow(/id/);
    expect(seen).toEqual([]);
  });

  it('an API error becomes a failure, not a result', async () => {
    const { fetch } = api({ 'GET https://invoices.example/v1/invoices': () => json({ error: 'down' }, 503) });
    await expect(callTool(invoices, 'list_invoices', {}, { credentials: { api: KEY }, fetch, settings })).rejects.toThrow('the invoices API answered 503');
  });

  it('declares its effects', () => {
    expect(Object.fromEntries(invoices.tools.map((t) => [t.name, t.effect]))).toEqual({
      list_invoices: 'read',
      create_invoice: 'write',
      delete_invoice: 'destructive',
    });
  });
});
