// The connector sandbox on its own, without Node's permission model: the exact bubblewrap
// wrapping a connector gets, around a plain `node -e` that tries what a hostile connector would.
// Each refusal here is the sandbox's (the connector tests see both fences together).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBubblewrap, protectedPaths, wrapConnector, type SandboxDecision } from '../../src/sandbox/index.js';
import { ensureBubblewrap } from '../helpers/bubblewrap.ts';
import { cleanup, ROOT } from '../helpers/e2e.ts';

const PROBE = `
const fs = require('node:fs');
const net = require('node:net');
const out = {};
const tryIt = (name, fn) => { try { out[name] = { ok: true, value: fn() }; } catch (e) { out[name] = { ok: false, error: e.code || e.message }; } };
const [dataDir, keyFile, configFile, gatewayFile, connectorFile, port] = process.argv.slice(1);
tryIt('dataDir', () => fs.readdirSync(dataDir));
tryIt('keyFile', () => fs.readFileSync(keyFile, 'utf8'));
tryIt('configFile', () => fs.readFileSync(configFile, 'utf8'));
tryIt('gatewayModule', () => fs.readFileSync(gatewayFile, 'utf8').length);
tryIt('ownFile', () => fs.readFileSync(connectorFile, 'utf8'));
const s = net.connect({ host: '127.0.0.1', port: Number(port) });
s.setTimeout(2000, () => { out.socket = { ok: false, error: 'timeout' }; done(); });
s.once('connect', () => { out.socket = { ok: true }; s.end(); done(); });
s.once('error', (e) => { out.socket = { ok: false, error: e.code }; done(); });
function done() { process.stdout.write(JSON.stringify(out)); process.exit(0); }
`;

let root: string;
let listener: Server;
let port = 0;
let accepted = 0;

beforeAll(async () => {
  await ensureBubblewrap({ install: true });
  // Outside /tmp (the sandbox has its own): the masks over data dir, key and config must do the hiding.
  root = mkdtempSync('/var/tmp/gh-sdk-sbx-');
  for (const dir of ['data', 'home/.config/gatehouse', 'connectors/shop']) mkdirSync(path.join(root, dir), { recursive: true });
  writeFileSync(path.join(root, 'data/gatehouse.db'), 'VAULT-BYTES');
  writeFileSync(path.join(root, 'home/.config/gatehouse/master.key'), 'MASTER-KEY');
  writeFileSync(path.join(root, 'gatehouse.yaml'), 'servers: {}\n');
  writeFileSync(path.join(root, 'connectors/shop/connector.ts'), 'export default 1;\n');
  listener = createServer(() => accepted++);
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  port = (listener.address() as { port: number }).port;
});

afterAll(async () => {
  listener.close();
  rmSync(root, { recursive: true, force: true });
  await cleanup();
});

describe('the connector sandbox alone', () => {
  it('hides the data dir, the key, the config and the gateway; leaves the connector its folder; has no network', async () => {
    const probe = await detectBubblewrap({ searchPath: process.env.PATH });
    expect(probe.usable, JSON.stringify(probe)).toBe(true);
    if (!probe.usable) return;
    const protect = protectedPaths({
      dataDir: path.join(root, 'data'),
      keyFiles: [path.join(root, 'home/.config/gatehouse/master.key')],
      configPath: path.join(root, 'gatehouse.yaml'),
      home: path.join(root, 'home'),
    });
    const decision: SandboxDecision = { on: true, mode: 'required', network: 'none', reason: 'test', bwrap: probe.path, readable: [], writable: [] };
    const folder = path.join(root, 'connectors/shop');
    const target = wrapConnector(
      {
        node: process.execPath,
        args: [
          '-e',
          PROBE,
          path.join(root, 'data'),
          path.join(root, 'home/.config/gatehouse/master.key'),
          path.join(root, 'gatehouse.yaml'),
          path.join(ROOT, 'dist/vault/index.js'),
          path.join(folder, 'connector.ts'),
          String(port),
        ],
        readable: [folder],
        cwd: folder,
        env: { HOME: '/tmp' },
      },
      decision,
      { home: path.join(root, 'home'), protect, innerArgs: [] },
    );
    expect('fd3' in target).toBe(true);
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(target.command, target.args, { cwd: target.cwd, env: {}, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      // bubblewrap reads the program's environment and inner options from fd 3, as the gateway passes them.
      (child.stdio[3] as NodeJS.WritableStream).end('fd3' in target ? target.fd3 : Buffer.alloc(0));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout);
        else reject(new Error(`exit ${code}: ${stderr}`));
      });
    });
    expect(output).toContain('{');
    const result = JSON.parse(output.slice(output.indexOf('{'))) as Record<string, { ok: boolean; value?: unknown; error?: string }>;
    // Nothing of the data dir, the key or the config: absent, or an empty mask over it.
    const empty = (r: { ok: boolean; value?: unknown } | undefined) => r?.ok === false || (Array.isArray(r?.value) && r.value.length === 0) || r?.value === '';
    expect(empty(result.dataDir), JSON.stringify(result.dataDir)).toBe(true);
    expect(empty(result.keyFile), JSON.stringify(result.keyFile)).toBe(true);
    expect(empty(result.configFile), JSON.stringify(result.configFile)).toBe(true);
    expect(JSON.stringify(result)).not.toContain('VAULT-BYTES');
    expect(JSON.stringify(result)).not.toContain('MASTER-KEY');
    expect(result.gatewayModule).toMatchObject({ ok: false, error: 'ENOENT' });
    expect(result.ownFile).toMatchObject({ ok: true, value: 'export default 1;\n' });
    expect(result.socket).toMatchObject({ ok: false });
    expect(accepted).toBe(0);
  });
});
