#!/usr/bin/env node
// A tiny in-memory invoices API for the HTTP connector example (examples/http/README.md).
// Requires the header X-Api-Key to equal $INVOICES_API_KEY. Usage: node invoices-api.mjs [port]
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 8790);
const apiKey = process.env.INVOICES_API_KEY;
if (!apiKey) {
  console.error('set INVOICES_API_KEY');
  process.exit(2);
}
const invoices = new Map([
  ['inv-1', { id: 'inv-1', customer: 'ACME GmbH', amount: 1200, currency: 'EUR', status: 'sent', internalNote: 'late payer' }],
  ['inv-2', { id: 'inv-2', customer: 'Globex', amount: 300, currency: 'USD', status: 'paid', internalNote: '' }],
]);
let next = 3;

const send = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
};

const server = createServer((req, res) => {
  if (req.headers['x-api-key'] !== apiKey) return send(res, 401, { error: 'unauthorized' });
  const url = new URL(req.url ?? '/', 'http://localhost');
  const id = /^\/v1\/invoices\/([^/]+)$/.exec(url.pathname)?.[1];
  if (url.pathname === '/v1/invoices' && req.method === 'GET') {
    const status = url.searchParams.get('status');
    const items = [...invoices.values()].filter((i) => !status || i.status === status);
    return send(res, 200, { items: items.slice(0, Number(url.searchParams.get('limit') ?? 100)) });
  }
  if (url.pathname === '/v1/invoices' && req.method === 'POST') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const input = JSON.parse(body || '{}');
      const invoice = { id: `inv-${next++}`, status: 'draft', internalNote: '', currency: 'EUR', ...input };
      invoices.set(invoice.id, invoice);
      send(res, 201, invoice);
    });
    return;
  }
  if (id && req.method === 'GET') return invoices.has(id) ? send(res, 200, invoices.get(id)) : send(res, 404, { error: 'not found' });
  if (id && req.method === 'DELETE') return invoices.delete(id) ? send(res, 204) : send(res, 404, { error: 'not found' });
  return send(res, 404, { error: 'not found' });
});
server.listen(port, '127.0.0.1', () => console.log(`invoices API on http://127.0.0.1:${server.address().port}/v1`));
