import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { check, DemoError, type DemoContext, type DemoStep } from './context.ts';

/** The running example invoices API (examples/http/invoices-api.mjs) and the key it requires. */
export interface InvoicesApi {
  baseUrl: string;
  /** The API key: in the vault and this process only; never in the agent's hands. */
  key: string;
}

/** The invoices tools eng's policy allows (demo/policies/40-invoices.cedar). */
export const INVOICES_TOOLS_ALLOWED = ['invoices__listInvoices', 'invoices__createInvoice'] as const;

let running: { child: ChildProcess; api: InvoicesApi } | undefined;

/** The invoices API started by the set-up step, for the step that uses it. */
export function invoicesApi(): InvoicesApi {
  if (!running) throw new DemoError('the invoices API was not started');
  return running.api;
}

function q(value: string): string {
  return JSON.stringify(value);
}

/** The `servers.invoices` block: the HTTP connector over the example's OpenAPI document. */
function invoicesServerYaml(root: string, baseUrl: string): string {
  return `  # The HTTP connector: an OpenAPI document's operations as tools; the API key stays in the vault.
  invoices:
    http:
      baseUrl: ${q(baseUrl)}
      openapi: ${q(path.join(root, 'examples', 'http', 'invoices.openapi.yaml'))}
      include: [listInvoices, createInvoice]
      # What the agent sees of a list: never the internal notes.
      responses:
        listInvoices: { fields: ['$.items[*].id', '$.items[*].customer', '$.items[*].amount', '$.items[*].status'] }
      auth: { type: apiKey, name: x-api-key, key: vault:invoices-api-key }
    # Loopback is refused unless listed: the example API runs on this machine.
    egress: { allowAddresses: [127.0.0.1/32] }
    tools:
      createInvoice: { annotations: { destructiveHint: false } }
`;
}

/** Starts the API on a free loopback port and waits for its "listening" line. */
async function startApi(root: string, key: string): Promise<{ child: ChildProcess; baseUrl: string }> {
  const script = path.join(root, 'examples', 'http', 'invoices-api.mjs');
  const child = spawn(process.execPath, [script, '0'], { env: { PATH: process.env.PATH ?? '', INVOICES_API_KEY: key }, stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => child.kill('SIGTERM'));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new DemoError(`the invoices API did not start: ${out}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = /(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        // The demo must be able to exit while the API runs; the exit handler stops it.
        child.stdout?.destroy();
        child.stderr?.destroy();
        child.unref();
        resolve(url);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new DemoError(`the invoices API exited (${code}): ${out}`));
    });
  });
  return { child, baseUrl };
}

/**
 * Set-up: starts the example invoices API, puts its key into the vault (stdin) and adds
 * `servers.invoices` to the demo's gatehouse.yaml before the gateway starts.
 */
export const startInvoicesApi: DemoStep = {
  title: 'Start the example invoices API',
  async run(ctx: DemoContext) {
    const { ui, paths } = ctx;
    // The gateway (started next, inheriting this environment) must read the demo's own vault
    // key, the one `vault put` below encrypts with, not the user's default one.
    process.env.GATEHOUSE_MASTER_KEY_FILE = paths.masterKeyFile;
    delete process.env.GATEHOUSE_MASTER_KEY;
    const key = `inv_live_demo${randomBytes(16).toString('hex')}`;
    ui.phase('Starting the example invoices API (examples/http/invoices-api.mjs) on a free loopback port');
    const { child, baseUrl } = await startApi(paths.root, key);
    running = { child, api: { baseUrl, key } };
    ui.ok(`${baseUrl} (requires X-Api-Key)`);
    await ctx.show(['vault', 'put', 'invoices-api-key', '--data-dir', paths.dataDir], { stdin: `${key}\n`, stdinNote: 'the API key on stdin', expectExit: 0 });
    const config = readFileSync(paths.configPath, 'utf8');
    check(/^servers:\n/m.test(config), 'gatehouse.yaml has no servers: block');
    writeFileSync(paths.configPath, config.replace(/^servers:\n/m, `servers:\n${invoicesServerYaml(paths.root, baseUrl)}`));
    ui.ok(`gatehouse.yaml: servers.invoices.http (openapi, auth apiKey vault:invoices-api-key, egress 127.0.0.1/32)`);
  },
};
