import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  cleanup,
  cli,
  connectClient,
  FS_SERVER,
  MEMORY_SERVER,
  NODE,
  startGateway,
  tempDir,
  text,
  waitFor,
  type GatewayProcess,
} from '../helpers/e2e.js';

/**
 * Two real MCP servers from npm (server-filesystem on a temp folder, server-memory) behind one
 * gateway, driven by the official SDK client over Streamable HTTP.
 */
describe('real npm upstreams behind one gateway', () => {
  let gw: GatewayProcess;
  let files: string;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    const dir = tempDir();
    files = path.join(dir, 'files');
    mkdirSync(files);
    gw = await startGateway({
      config: {
        servers: {
          // Sandboxed: each server may write only the folder it works on.
          fs: { command: NODE, args: [FS_SERVER, files], sandbox: { writable: [files] } },
          memory: { command: NODE, args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: path.join(dir, 'memory.jsonl') }, sandbox: { writable: [dir] } },
        },
        access: [{ allow: { users: ['alice'], servers: ['fs', 'memory'] } }],
      },
    });
    [aliceToken, bobToken] = await Promise.all([gw.token('alice'), gw.token('bob')]);
  });
  afterAll(cleanup);

  it('lists both servers’ tools, prefixed <server>__<name>', async () => {
    const alice = await connectClient(gw, aliceToken);
    const names = (await alice.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(['fs__write_file', 'fs__read_text_file', 'fs__list_directory', 'memory__create_entities', 'memory__read_graph']),
    );
    expect(names.every((n) => n.startsWith('fs__') || n.startsWith('memory__'))).toBe(true);
  });

  it('lets an allowed user write a file and read it back through the filesystem server', async () => {
    const alice = await connectClient(gw, aliceToken);
    const file = path.join(files, 'note.txt');
    const written = await alice.callTool({ name: 'fs__write_file', arguments: { path: file, content: 'written through gatehouse' } });
    expect(written.isError).toBeFalsy();
    expect(readFileSync(file, 'utf8')).toBe('written through gatehouse');
    const read = await alice.callTool({ name: 'fs__read_text_file', arguments: { path: file } });
    expect(text(read)).toBe('written through gatehouse');
  });

  it('keeps the filesystem server inside its folder: the upstream’s own error comes back as a tool error', async () => {
    const alice = await connectClient(gw, aliceToken);
    const result = await alice.callTool({ name: 'fs__read_text_file', arguments: { path: '/etc/passwd' } });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/access denied|outside allowed/i);
  });

  it('stores and reads a knowledge graph through the memory server', async () => {
    const alice = await connectClient(gw, aliceToken);
    await alice.callTool({
      name: 'memory__create_entities',
      arguments: { entities: [{ name: 'Gatehouse', entityType: 'project', observations: ['guards agents'] }] },
    });
    const graph = JSON.parse(text(await alice.callTool({ name: 'memory__read_graph', arguments: {} }))) as {
      entities: { name: string; observations: string[] }[];
    };
    expect(graph.entities).toEqual([expect.objectContaining({ name: 'Gatehouse', observations: ['guards agents'] })]);
  });

  it('shows a user without an access rule an empty tool list and denies calls by name; nothing reaches the upstream', async () => {
    const bob = await connectClient(gw, bobToken);
    expect((await bob.listTools()).tools).toEqual([]);
    const file = path.join(files, 'bob.txt');
    const error = await bob.callTool({ name: 'fs__write_file', arguments: { path: file, content: 'bob was here' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: -32003, data: { code: 'policy.denied', reason: 'not_allowed' } });
    expect((error as McpError).message).toContain('You are not allowed to call the tool "fs__write_file".');
    expect(existsSync(file)).toBe(false);
    const memoryError = await bob.callTool({ name: 'memory__read_graph', arguments: {} }).catch((e: unknown) => e);
    expect(memoryError).toMatchObject({ code: -32003, data: { reason: 'not_allowed' } });

    // No intent record: a denied call never got as far as the upstream.
    const rows = await waitFor(() => {
      const all = auditRows(gw.dataDir).filter((r) => r.body.actor?.sub === 'bob' && r.kind === 'call.denied');
      return all.length >= 2 ? all : undefined;
    }, 'bob’s denial records');
    expect(rows.map((r) => r.body.target?.tool).sort()).toEqual(['fs__write_file', 'memory__read_graph']);
    expect(auditRows(gw.dataDir).filter((r) => r.body.actor?.sub === 'bob' && r.kind === 'call.intent')).toEqual([]);
  });

  it('`audit query` shows the calls with user, tool and outcome', async () => {
    const alice = await connectClient(gw, aliceToken);
    await alice.callTool({ name: 'fs__list_directory', arguments: { path: files } });
    const result = await waitFor(async () => {
      const r = await cli(['audit', 'query', '--data-dir', gw.dataDir, '--user', 'alice', '--tool', 'fs__list_directory', '--json']);
      const records = JSON.parse(r.stdout) as { kind: string }[];
      return records.some((rec) => rec.kind === 'call.result') ? { r, records } : undefined;
    }, 'the list_directory result record');
    expect(result.r.code, result.r.stderr).toBe(0);
    const kinds = result.records.map((r) => r.kind);
    expect(kinds).toEqual(['call.intent', 'call.result']);
    expect(result.records[0]).toMatchObject({
      actor: { sub: 'alice' },
      method: 'tools/call',
      target: { server: 'fs', tool: 'fs__list_directory' },
      decision: { effect: 'allow' },
    });
    expect(result.records[1]).toMatchObject({ outcome: { status: 'ok' } });

    const table = await cli(['audit', 'query', '--data-dir', gw.dataDir]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/call\.intent\s+alice\s+tools\/call\s+fs__write_file/);
    expect(table.stdout).toMatch(/call\.denied\s+bob\s+tools\/call\s+fs__write_file\s+denied\s+not_allowed/);
  });

  it('`audit verify` exits 0 and prints the record count while the gateway runs', async () => {
    const before = auditRows(gw.dataDir).length;
    const result = await cli(['audit', 'verify', '--data-dir', gw.dataDir]);
    expect(result.code, result.stderr).toBe(0);
    const count = Number(/audit log intact: (\d+) records/.exec(result.stdout)?.[1]);
    expect(count).toBeGreaterThanOrEqual(before);
    expect(before).toBeGreaterThan(10);
  });
});
