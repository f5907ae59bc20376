import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/index.js';
import { ConfigError } from '../../errors/index.js';
import { silentLogger } from '../../log/index.js';
import { createSdkConnector } from './index.js';

const root = mkdtempSync(path.join(tmpdir(), 'gh-sdk-create-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(path.join(root, 'data'));
mkdirSync(path.join(root, 'connectors'));
writeFileSync(path.join(root, 'connectors/ok.ts'), 'export default 1;\n');
writeFileSync(path.join(root, 'connectors/notes.txt'), 'x\n');
writeFileSync(path.join(root, 'data/planted.js'), 'export default 1;\n');

async function attempt(server: Record<string, unknown>, usable = true): Promise<unknown> {
  const config = validateConfig({ dataDir: path.join(root, 'data'), servers: { shop: server } } as never, path.join(root, 'gatehouse.yaml'), root, { env: {} });
  return createSdkConnector('shop', config.servers.shop as never, {
    config,
    env: { HOME: path.join(root, 'home') },
    log: silentLogger(),
    vault: {} as never,
    audit: { append: async () => undefined } as never,
    probe: async () => (usable ? { usable: true, path: '/usr/bin/bwrap', version: '0.8.0' } : { usable: false, reason: 'bubblewrap (bwrap) is not installed' }),
  }).then(
    (c) => c,
    (e: unknown) => e,
  );
}

function issue(error: unknown): { path: string; message: string } | undefined {
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues[0];
}

describe('createSdkConnector', () => {
  it('a connector module that does not exist is a config error naming the key', async () => {
    expect(issue(await attempt({ connector: 'connectors/missing.ts' }))).toEqual({
      path: 'servers.shop.connector',
      message: `${path.join(root, 'connectors/missing.ts')} does not exist or is not a file`,
    });
  });

  it('a file that is not a module, or a folder, is refused', async () => {
    expect(issue(await attempt({ connector: 'connectors/notes.txt' }))?.message).toContain('is not a .js, .mjs, .ts or .mts module');
    expect(issue(await attempt({ connector: 'connectors' }))?.message).toContain('is not a .js, .mjs, .ts or .mts module');
  });

  it('a module inside the data dir is refused: its folder would become visible to the sandbox', async () => {
    expect(issue(await attempt({ connector: 'data/planted.js' }))?.message).toContain('which the gateway keeps from every sandboxed process');
  });

  it('sandbox required without a working bubblewrap is a config error; auto starts unsandboxed (and says so in status)', async () => {
    expect(issue(await attempt({ connector: 'connectors/ok.ts', sandbox: { mode: 'required' } }, false))?.path).toBe('servers.shop.sandbox.mode');
    const auto = (await attempt({ connector: 'connectors/ok.ts' }, false)) as { status(): { detail: Record<string, unknown> } };
    expect(auto.status().detail.sandbox).toEqual({ on: false, reason: 'unavailable: bubblewrap (bwrap) is not installed' });
  });

  it('the schema refuses unknown keys and a network setting for a connector sandbox', () => {
    const bad = (server: Record<string, unknown>) => () =>
      validateConfig({ servers: { shop: server } } as never, path.join(root, 'gatehouse.yaml'), root, { env: {} });
    expect(bad({ connector: 'x.ts', sandbox: { network: 'host' } })).toThrow(ConfigError);
    expect(bad({ connector: 'x.ts', credentials: { api: { type: 'apiKey', name: 'x-api-key', key: 'literal-secret' } } })).toThrow(/vault reference/);
    expect(bad({ connector: 'x.ts', settings: { 'bad key': 'x' } })).toThrow(ConfigError);
    const userOAuth = (scope: string) => ({
      type: 'userOAuth',
      provider: 'Example',
      issuer: 'https://idp.example',
      clientId: 'c',
      clientSecret: 'vault:c',
      scopes: [scope],
    });
    expect(bad({ connector: 'x.ts', credentials: { a: userOAuth('a'), b: userOAuth('b') } })).toThrow(/at most one userOAuth credential per connector/);
  });
});
