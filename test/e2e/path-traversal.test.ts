import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, cleanup, connectClient, NODE, ROOT, startGateway, text, waitFor, type GatewayProcess } from '../helpers/e2e.js';

const PATH_SERVER = path.join(ROOT, 'test/fixtures/path-server.mjs');

/**
 * The shipped example policies allow files under /srv/public only. Every spelling of a way out
 * is refused and audited; a legitimate path works, and the server receives the path the
 * policy judged.
 */
describe('path traversal against the example policies', () => {
  let gw: GatewayProcess;
  let client: Client;

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        // The example policies allow read-only tools; read-only is the operator's word, not the upstream's.
        servers: { files: { command: NODE, args: [PATH_SERVER], tools: { read_text_file: { annotations: { readOnlyHint: true } } } } },
        policies: path.join(ROOT, 'examples/policies'),
        rateLimits: { enabled: false },
      },
    });
    client = await connectClient(gw, await gw.token('alice', { groups: ['eng'] }));
  });
  afterAll(cleanup);

  const read = (p: string) => client.callTool({ name: 'read_text_file', arguments: { path: p } });
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: unknown) => e as McpError,
    );

  it('a legitimate path under /srv/public works; a redundant spelling reaches the server normalised', async () => {
    expect(text(await read('/srv/public/a/b.txt'))).toBe('opened /srv/public/a/b.txt');
    expect(text(await read('/srv//public/./a/b.txt'))).toBe('opened /srv/public/a/b.txt');
  });

  it('traversals are judged by where they lead: denied by policy, audited with the normalised path', async () => {
    const variants = [
      '/srv/public/../../etc/passwd',
      '/srv/public/a/../../../etc/passwd',
      '/srv/public\\..\\..\\etc\\passwd',
      'file:///srv/public/%2e%2e/%2e%2e/etc/passwd',
      '/srv/publicity/passwd',
      '/srv/public/./../../etc/passwd',
    ];
    for (const variant of variants) {
      const error = await refusal(read(variant));
      expect(error.code, variant).toBe(-32003);
      expect(error.data, variant).toMatchObject({ reason: 'path_not_allowed', policy: 'public-files-only' });
    }
    const denied = await waitFor(() => {
      const rows = auditRows(gw.dataDir).filter(
        (r) => r.kind === 'call.denied' && (r.body as { decision?: { reason?: string } }).decision?.reason === 'path_not_allowed',
      );
      return rows.length >= variants.length && rows;
    }, 'the denial records');
    expect(denied.map((r) => (r.body as { args: { path: string } }).args.path)).toEqual([
      '/etc/passwd',
      '/etc/passwd',
      '/etc/passwd',
      'file:///etc/passwd',
      '/srv/publicity/passwd',
      '/etc/passwd',
    ]);
  });

  it('paths that climb above the root or hide an encoded dot or a NUL are refused with -32602 before any policy, and audited', async () => {
    const variants = [
      '/../../etc/passwd',
      '../../etc/passwd',
      '/srv/public/%2e%2e/%2e%2e/etc/passwd',
      '/srv/public/%2E%2E%2Fetc',
      '/srv/public/a.txt\u0000.png',
      'file://evil.example/srv/public/a',
      'file:///srv/public/%252e%252e/x',
    ];
    for (const variant of variants) {
      const error = await refusal(read(variant));
      expect(error.code, variant).toBe(-32602);
      expect(error.data, variant).toMatchObject({ code: 'mcp.invalid_path', reason: 'invalid_path', argument: 'path' });
    }
    const refused = await waitFor(() => {
      const rows = auditRows(gw.dataDir).filter((r) => r.kind === 'call.denied' && r.body.outcome?.code === 'mcp.invalid_path');
      return rows.length >= variants.length && rows;
    }, 'the refusal records');
    expect(refused).toHaveLength(variants.length);
  });

  it('file: resource URIs are normalised before the server sees them; an escaping one is refused', async () => {
    const read = await client.readResource({ uri: 'file:///srv/public/./docs//a.md' });
    expect(read.contents[0]).toMatchObject({ text: 'contents of file:///srv/public/docs/a.md' });
    const error = await refusal(client.readResource({ uri: 'file:///../../etc/shadow' }));
    expect(error.code).toBe(-32602);
    expect(error.data).toMatchObject({ code: 'mcp.invalid_path' });
  });
});
