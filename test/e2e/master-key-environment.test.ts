import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER_KEY_ENV } from '../../src/vault/index.js';
import { ECHO_SERVER, NODE } from '../helpers/e2e.js';
import { vaultGateway, type VaultGateway } from '../helpers/vault-gateway.js';

/**
 * No configuration can hand the master key to a child. Validation refuses `${GATEHOUSE_MASTER_KEY}`
 * (src/config/load.test.ts); behind it, the gateway resolves references against an environment
 * the key was taken out of, so an upstream that still asks for it fails to start with a clear
 * error, while the vault (which did get the key) still works.
 */
describe('the master key and configured child environments', () => {
  let gw: VaultGateway;
  const canary = `vault-canary-${Date.now()}`;

  beforeAll(async () => {
    gw = await vaultGateway(
      {
        servers: {
          leak: { command: NODE, args: [ECHO_SERVER] },
          ok: { command: NODE, args: [ECHO_SERVER], env: { ECHO_SECRET: 'vault:canary' } },
        },
        access: [{ allow: { users: ['alice'], servers: ['leak', 'ok'] } }],
      },
      { canary },
      {
        afterValidation: (config) => {
          const leak = config.servers.leak as { env: Record<string, string> };
          leak.env.LEAK = `\${${MASTER_KEY_ENV}}`;
        },
      },
    );
    await Promise.allSettled([...gw.assembly.connectors.values()].map((c) => c.start()));
  });
  afterAll(() => gw?.close());

  it('an upstream whose env asks for the master key does not start, and says which variable is missing', async () => {
    const leak = gw.assembly.connectors.get('leak');
    expect(leak?.status().ready).toBe(false);
    const lines = gw.logs.join('\n');
    expect(lines).toContain('servers.leak.env.LEAK');
    expect(lines).toContain(MASTER_KEY_ENV);
    const instances = (leak?.status().detail.instances as { pid?: number }[] | undefined) ?? [];
    expect(instances.every((i) => i.pid === undefined)).toBe(true);
  });

  it('the vault still decrypts with the key: the other upstream starts with its vault secret', async () => {
    const ok = gw.assembly.connectors.get('ok');
    expect(ok?.status().ready).toBe(true);
    const token = await gw.harness.token('alice');
    const sid = await gw.harness.open(token);
    const { response } = await gw.harness.rpc(token, sid, 'tools/call', { name: 'ok__env', arguments: {} });
    const env = JSON.parse(((response.result as { content: { text: string }[] }).content[0] as { text: string }).text) as Record<string, string>;
    expect(Object.keys(env)).not.toContain(MASTER_KEY_ENV);
    expect(Object.keys(env)).not.toContain('LEAK');
    expect(Object.keys(env)).toContain('ECHO_SECRET');
  });
});
