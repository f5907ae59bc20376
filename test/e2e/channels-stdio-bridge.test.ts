import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, CLI, jsonLines, NODE, spawnTracked } from '../helpers/e2e.js';

/**
 * `gatehouse stdio` holds the user's token. Whatever answers at --url — a gateway, a proxy in
 * between, something misconfigured — must not make the bridge hand that token to the agent,
 * neither inside a relayed message nor inside the bridge's own error text.
 */
describe('channels: the stdio bridge never writes its token to the client', () => {
  const token = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSIsImp0aSI6InN0ZGlvLWNoYW5uZWxzIn0.c2lnbmF0dXJlLW9mLXRoZS1icmlkZ2Utb3duLXRva2Vu';
  let endpoint: Server;
  let mode: 'echo-json' | 'echo-error' = 'echo-json';

  beforeAll(async () => {
    // Echoes the Authorization header it receives, in a result or in an error body.
    endpoint = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.method !== 'POST') {
          res.writeHead(405).end();
          return;
        }
        const message = JSON.parse(body) as { id?: number; method?: string };
        if (message.id === undefined) {
          res.writeHead(202).end();
          return;
        }
        if (mode === 'echo-error') {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`upstream proxy failed for ${req.headers.authorization}`);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' }).end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: message.id,
            result: {
              protocolVersion: '2025-11-25',
              capabilities: {},
              serverInfo: { name: 'not-a-gateway', version: '1' },
              instructions: `you sent ${req.headers.authorization}`,
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await cleanup();
    await new Promise((resolve) => endpoint.close(resolve));
  });

  function bridge() {
    const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
    const child = spawnTracked(NODE, [CLI, 'stdio', '--url', url, '--token-env', 'GATEHOUSE_TOKEN'], {
      env: { PATH: process.env.PATH ?? '', GATEHOUSE_TOKEN: token },
    });
    let raw = '';
    child.stdout.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    return { child, out: jsonLines(child.stdout), send: (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`), raw: () => raw };
  }
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  };

  it('a relayed message that echoes the token reaches the client redacted', async () => {
    mode = 'echo-json';
    const b = bridge();
    b.send(initialize);
    const init = await b.out.next((m) => m.id === 1, 'the initialize response');
    expect(init).toMatchObject({ result: { instructions: 'you sent Bearer [REDACTED:access_token]' } });
    expect(b.raw()).not.toContain(token);
    b.child.stdin.end();
  });

  it('the bridge’s own error text quoting what answered is redacted too', async () => {
    mode = 'echo-error';
    const b = bridge();
    b.send(initialize);
    const error = await b.out.next((m) => m.id === 1, 'the error for initialize');
    expect(JSON.stringify(error)).toContain('[REDACTED:access_token]');
    expect(error).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/^gateway answered HTTP 500: /) } });
    expect(b.raw()).not.toContain(token);
    b.child.stdin.end();
  });
});
