import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector } from '../../test/helpers/fake-connector.js';
import { Harness } from '../../test/helpers/gateway-harness.js';
import { STARTER_POLICIES } from '../../test/helpers/policy-fixtures.js';

/** Path arguments on the request path, with the shipped example policies. */
describe('path arguments and file: URIs on the request path', () => {
  let h: Harness;
  let files: FakeConnector;
  let alice: string;

  beforeEach(async () => {
    files = new FakeConnector('files', [
      {
        name: 'read_text_file',
        annotations: { readOnlyHint: true },
        inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
      },
      { name: 'open_doc', annotations: { readOnlyHint: true }, inputSchema: { type: 'object', properties: { location: { type: 'string', format: 'path' } } } },
    ]);
    files.catalogValue.resourceTemplates.push({ uriTemplate: 'file:///{+path}', name: 'file' });
    h = await Harness.create({ servers: { files: { command: 'unused' } }, policies: STARTER_POLICIES, rateLimits: { enabled: false } }, [files]);
    alice = await h.token('alice', { groups: ['eng'] });
  });
  afterEach(async () => h.close());

  const denials = async () => {
    await h.assembly.audit.flush();
    return (await h.assembly.storage.audit.query({ kinds: ['call.denied'] })).map((r) => JSON.parse(r.body) as Record<string, any>);
  };
  const call = (sid: string, args: Record<string, unknown>, name = 'read_text_file') => h.rpc(alice, sid, 'tools/call', { name, arguments: args });

  it('a legitimate path works, and the server receives it normalised', async () => {
    const sid = await h.open(alice);
    expect((await call(sid, { path: '/srv/public/a/b.txt' })).response.result).toBeDefined();
    expect((await call(sid, { path: '/srv//public/./a\\b.txt' })).response.result).toBeDefined();
    expect(files.calls.map((c) => c.params.arguments)).toEqual([{ path: '/srv/public/a/b.txt' }, { path: '/srv/public/a/b.txt' }]);
  });

  it('traversals that resolve outside /srv/public are denied by policy on the normalised path, audited, never forwarded', async () => {
    const sid = await h.open(alice);
    for (const path of [
      '/srv/public/../../etc/passwd',
      '/srv/public/a/../../../etc/passwd',
      'file:///srv/public/%2e%2e/%2e%2e/etc/passwd',
      '/srv/public\\..\\..\\etc\\passwd',
      '/srv/publicity/secret',
    ]) {
      const { response } = await call(sid, { path });
      expect(response.error, path).toMatchObject({ code: -32003, data: { reason: 'path_not_allowed', policy: 'public-files-only' } });
    }
    const records = await denials();
    expect(records.map((r) => r.args.path)).toEqual(['/etc/passwd', '/etc/passwd', 'file:///etc/passwd', '/etc/passwd', '/srv/publicity/secret']);
    expect(files.calls).toHaveLength(0);
  });

  it('paths that climb above the root, hide a NUL or an encoded dot are refused with -32602 before policy, and audited', async () => {
    const sid = await h.open(alice);
    for (const path of [
      '/../../etc/passwd',
      '../etc/passwd',
      '/srv/public/%2e%2e/%2e%2e/etc/passwd',
      '/srv/public/a.txt\u0000.png',
      'file://attacker.example/srv/public/a',
    ]) {
      const { response } = await call(sid, { path });
      expect(response.error, path).toMatchObject({ code: -32602, data: { code: 'mcp.invalid_path', reason: 'invalid_path', argument: 'path' } });
    }
    // Declared by the tool's own schema (format: path), under another name.
    expect((await call(sid, { location: '/../x' }, 'open_doc')).response.error).toMatchObject({ code: -32602, data: { argument: 'location' } });
    const records = await denials();
    expect(records).toHaveLength(6);
    expect(records.every((r) => r.outcome.code === 'mcp.invalid_path' && r.decision.reason === 'mcp.invalid_path')).toBe(true);
    expect(files.calls).toHaveLength(0);
  });

  it('resource reads: file: URIs are normalised before the server is chosen and before policy; escaping ones are refused', async () => {
    const sid = await h.open(alice);
    expect((await h.rpc(alice, sid, 'resources/read', { uri: 'file:///srv/public/./docs//a.md' })).response.result).toBeDefined();
    expect(files.calls.at(-1)?.params.uri).toBe('file:///srv/public/docs/a.md');
    const { response } = await h.rpc(alice, sid, 'resources/read', { uri: 'file:///../../etc/shadow' });
    expect(response.error).toMatchObject({ code: -32602, data: { code: 'mcp.invalid_path' } });
    expect(files.calls).toHaveLength(1);
  });

  it('a token bound to a path prefix (gatehouse_tool_call) does not reach a traversal or a look-alike sibling', async () => {
    const bound = await h.token('alice', {
      groups: ['eng'],
      authorizationDetails: [{ type: 'gatehouse_tool_call', server: 'files', tool: 'read_text_file', arguments: { path: { prefix: '/srv/public' } } }],
    });
    const sid = await h.open(bound);
    const ask = (path: string) => h.rpc(bound, sid, 'tools/call', { name: 'read_text_file', arguments: { path } });
    expect((await ask('/srv/public/a.txt')).response.result).toBeDefined();
    for (const path of ['/srv/public/../../etc/passwd', '/srv/publicity/x']) {
      expect((await ask(path)).response.error, path).toMatchObject({ code: -32003, data: { reason: 'authorization_details' } });
    }
    expect(files.calls).toHaveLength(1);
  });
});
