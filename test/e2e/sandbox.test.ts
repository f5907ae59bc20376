import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanup, cli, connectClient, NODE, ROOT, text } from '../helpers/e2e.js';
import { startGatewayAs, type UserGateway } from '../helpers/sandbox-gateway.js';

const PROBE = path.join(ROOT, 'test/fixtures/sandbox-probe.mjs');

type Outcome = { ok: boolean; code?: string; found?: boolean; bytes?: number; entries?: number };
interface Report {
  files: Record<string, Outcome>;
  folders: Record<string, Outcome>;
  writes: Record<string, Outcome>;
  ports: Record<string, Outcome>;
  symlinks: Record<string, Outcome>;
  procStatus?: Outcome;
  environ?: Outcome;
  mem?: Outcome;
  self: { pid: number; uid: number };
}

/**
 * A hostile stdio upstream (the probe) behind a gateway that runs as an unprivileged user, with
 * the sandbox on (`probe`), on with the gateway's network (`hostnet`), and dangerously off
 * (`exposed`, the control that shows each attack works when nothing stops it).
 */
describe('sandboxed stdio upstreams (bubblewrap)', () => {
  let gw: UserGateway;
  let listener: Server;
  let listenerPort: number;
  let token: string;
  const accepted: number[] = [];

  beforeAll(async () => {
    const user = inject('sandboxUser');
    listener = createServer((socket) => {
      accepted.push(Date.now());
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listenerPort = (listener.address() as AddressInfo).port;
    gw = await startGatewayAs(
      user,
      (root) => ({
        servers: {
          // The whole gateway folder is granted readable: the data dir, the master key (under
          // home) and the configuration file inside it must stay hidden all the same.
          probe: { command: NODE, args: [PROBE], sandbox: { readable: [root], writable: [path.join(root, 'shared', 'out')] } },
          hostnet: { command: NODE, args: [PROBE], sandbox: { network: 'host' } },
          exposed: { command: NODE, args: [PROBE], sandbox: { mode: 'dangerously-off' } },
        },
        access: [{ allow: { users: ['alice'], servers: ['*'] } }],
      }),
      (root) => {
        mkdirSync(path.join(root, 'shared', 'out'), { recursive: true });
        writeFileSync(path.join(root, 'shared', 'hello.txt'), 'granted file');
      },
    );
    token = await gw.token('alice');
  });
  afterAll(async () => {
    listener.close();
    await cleanup();
  });

  /** Other ways to the same three files: through /proc roots, `..` out of a grant, a planted link. */
  function detours(server: string) {
    const out = path.join(gw.root, 'shared', 'out');
    const link = path.join(out, `key-link-${server}`);
    return {
      symlinks: [{ at: link, to: gw.keyFile }],
      files: [
        { path: `/proc/self/root${gw.keyFile}`, canary: gw.masterKey },
        { path: `/proc/1/root${path.join(gw.dataDir, 'gatehouse.db')}`, canary: 'SQLite format 3' },
        { path: `/proc/${gw.gateway.pid}/root${gw.keyFile}`, canary: gw.masterKey },
        // Not path.join: it would resolve the `..` here instead of in the probe.
        { path: `${out}/../../data/gatehouse.db`, canary: 'SQLite format 3' },
        { path: link, canary: gw.masterKey },
      ],
    };
  }

  async function attack(server: string): Promise<Report> {
    const client = await connectClient(gw.gateway, token);
    const result = await client.callTool({
      name: `${server}__attack`,
      arguments: {
        symlinks: detours(server).symlinks,
        files: [
          { path: path.join(gw.dataDir, 'gatehouse.db'), canary: 'SQLite format 3' },
          { path: gw.keyFile, canary: gw.masterKey },
          { path: gw.gateway.configPath, canary: 'servers' },
          { path: path.join(gw.root, 'shared', 'hello.txt'), canary: 'granted file' },
          ...detours(server).files,
        ],
        folders: [gw.dataDir, gw.home, path.dirname(gw.keyFile)],
        writeTo: [path.join(gw.root, 'shared', 'out', 'note.txt'), path.join(gw.root, 'shared', 'other.txt')],
        pid: gw.gateway.pid,
        environCanary: gw.environCanary,
        ports: [listenerPort, gw.gateway.port],
      },
    });
    expect(result.isError).toBeFalsy();
    return JSON.parse(text(result)) as Report;
  }

  it('runs the harmless tool normally inside the sandbox (positive control)', async () => {
    const client = await connectClient(gw.gateway, token);
    const result = await client.callTool({ name: 'probe__echo', arguments: { text: 'still works' } });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe('still works');
  });

  it('reports the sandbox per server in gatehouse status --json', async () => {
    const response = await fetch(`${gw.gateway.url}/readyz`);
    const body = (await response.json()) as { upstreams: Record<string, { detail: { sandbox?: { on: boolean; network: string; reason: string } } }> };
    expect(body.upstreams.probe?.detail.sandbox).toMatchObject({ on: true, mode: 'auto', network: 'none' });
    expect(body.upstreams.hostnet?.detail.sandbox).toMatchObject({ on: true, network: 'host' });
    expect(body.upstreams.exposed?.detail.sandbox).toMatchObject({ on: false, mode: 'dangerously-off' });
    expect(body.upstreams.exposed?.detail.sandbox?.reason).toMatch(/dangerously-off/);
    const status = await cli(['status', '--config', gw.gateway.configPath, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const json = JSON.parse(status.stdout) as { sandbox: Record<string, { on: boolean; mode: string; network: string; reason: string }> };
    expect(Object.keys(json.sandbox).sort()).toEqual(['exposed', 'hostnet', 'probe']);
    expect(json.sandbox.probe).toEqual({ on: true, mode: 'auto', network: 'none', reason: expect.stringMatching(/^bubblewrap \S+; no network$/) });
    const human = await cli(['status', '--config', gw.gateway.configPath]);
    expect(human.stdout).toMatch(/sandbox probe: on \(bubblewrap \S+; no network\)/);
    expect(human.stdout).toContain('sandbox exposed: OFF (dangerously-off in the configuration');
    const logs = gw.gateway.logs();
    expect(logs.some((l) => l.server === 'exposed' && /SANDBOX OFF/.test(String(l.msg)))).toBe(true);
    expect(logs.some((l) => l.server === 'hostnet' && /shares the gateway's network/.test(String(l.msg)))).toBe(true);
    expect(logs.some((l) => l.server === 'probe' && /SANDBOX OFF/.test(String(l.msg)))).toBe(false);
  });

  it('without the sandbox, every attack works (control: the test can fail)', async () => {
    const report = await attack('exposed');
    expect(report.self.uid).toBe(inject('sandboxUser').uid);
    expect(report.files[path.join(gw.dataDir, 'gatehouse.db')]).toMatchObject({ ok: true, found: true });
    expect(report.files[gw.keyFile]).toMatchObject({ ok: true, found: true });
    expect(report.files[gw.gateway.configPath]).toMatchObject({ ok: true, found: true });
    expect(report.folders[gw.dataDir]?.ok).toBe(true);
    expect(report.folders[gw.dataDir]?.entries).toBeGreaterThan(0);
    // The gateway's process is visible; its environ and memory are readable unless the gateway
    // made itself non-dumpable (then EACCES, still not the sandbox's ENOENT).
    expect(report.files[path.join(gw.root, 'shared', 'out', 'key-link-exposed')]).toMatchObject({ ok: true, found: true });
    expect(report.files[`${path.join(gw.root, 'shared', 'out')}/../../data/gatehouse.db`]).toMatchObject({ ok: true, found: true });
    expect(report.procStatus?.ok).toBe(true);
    if (report.environ?.ok) expect(report.environ.found).toBe(true);
    else expect(report.environ?.code).toBe('EACCES');
    if (!report.mem?.ok) expect(report.mem?.code).toBe('EACCES');
    expect(report.ports[String(listenerPort)]).toEqual({ ok: true });
    expect(report.ports[String(gw.gateway.port)]).toEqual({ ok: true });
  });

  it('inside the sandbox, the data dir, master key, config file, home, /proc of the gateway and loopback are out of reach', async () => {
    const before = accepted.length;
    const report = await attack('probe');
    // Its own PID namespace: the probe is a low pid and the gateway's pid does not exist there.
    expect(report.self.pid).toBeLessThan(10);
    expect(report.self.uid).toBe(inject('sandboxUser').uid);
    for (const file of [path.join(gw.dataDir, 'gatehouse.db'), gw.keyFile, gw.gateway.configPath]) {
      const outcome = report.files[file];
      expect(outcome?.found, file).not.toBe(true);
      // Masked: a missing file, an empty one, or /dev/null in its place — never the content.
      if (outcome?.ok) expect(outcome.bytes, file).toBe(0);
    }
    // The detours lead to the same masks (or nowhere): the link is planted but reads nothing.
    expect(report.symlinks[path.join(gw.root, 'shared', 'out', 'key-link-probe')]).toEqual({ ok: true });
    for (const { path: file } of detours('probe').files) {
      const outcome = report.files[file];
      expect(outcome, file).toBeDefined();
      expect(outcome?.found, file).not.toBe(true);
      if (outcome?.ok) expect(outcome.bytes, file).toBe(0);
    }
    expect(report.folders[gw.dataDir]).toMatchObject({ ok: true, entries: 0 });
    expect(report.folders[gw.home]).toMatchObject({ ok: true, entries: 0 });
    expect(report.procStatus).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(report.environ).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(report.mem).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(report.ports[String(listenerPort)]).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    expect(report.ports[String(gw.gateway.port)]).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    expect(accepted.length).toBe(before);
    // What was granted works: the readable file reads, the writable folder takes a write, the
    // readable one does not.
    expect(report.files[path.join(gw.root, 'shared', 'hello.txt')]).toMatchObject({ ok: true, found: true });
    expect(report.writes[path.join(gw.root, 'shared', 'out', 'note.txt')]).toEqual({ ok: true });
    expect(report.writes[path.join(gw.root, 'shared', 'other.txt')]).toMatchObject({ ok: false, code: 'EROFS' });
  });

  it('network: host reaches loopback, and nothing else of the sandbox opens up', async () => {
    const report = await attack('hostnet');
    expect(report.ports[String(listenerPort)]).toEqual({ ok: true });
    expect(report.files[gw.keyFile]?.found).not.toBe(true);
    expect(report.files[path.join(gw.dataDir, 'gatehouse.db')]?.found).not.toBe(true);
    // Not granted here: the shared folder is another server's grant.
    expect(report.files[path.join(gw.root, 'shared', 'hello.txt')]).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(report.environ).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(report.mem).toMatchObject({ ok: false, code: 'ENOENT' });
  });
});
