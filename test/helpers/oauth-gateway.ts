import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateConfig, type ConfigInput } from '../../src/config/index.js';
import type { Connector } from '../../src/connectors/index.js';
import { Gateway } from '../../src/server.js';
import { createLogger, silentLogger } from '../../src/log/index.js';
import { SqliteStorage } from '../../src/storage/index.js';
import { Browser, forms } from './browser.js';
import { FakeConnector } from './fake-connector.js';

export const PASSWORD = 'correct horse battery staple';

/** A real gateway on an ephemeral loopback port with the authorization server on, fake upstreams, and a temp data dir. */
export class OAuthGateway {
  private constructor(
    readonly gateway: Gateway,
    readonly dataDir: string,
    readonly connectors: FakeConnector[],
  ) {}

  static start(input: ConfigInput = {}, connectors?: FakeConnector[], env: NodeJS.ProcessEnv = {}): Promise<OAuthGateway> {
    return OAuthGateway.restart(mkdtempSync(path.join(tmpdir(), 'gh-oauth-e2e-')), input, connectors, env);
  }

  /** Starts a gateway on an existing data dir (a restart). */
  static async restart(dataDir: string, input: ConfigInput = {}, connectors?: FakeConnector[], env: NodeJS.ProcessEnv = {}): Promise<OAuthGateway> {
    const fakes = connectors ?? [
      new FakeConnector('echo', [{ name: 'say' }, { name: 'shout' }]),
      new FakeConnector('db', [{ name: 'query' }, { name: 'drop' }]),
    ];
    const servers = Object.fromEntries(fakes.map((c) => [c.name, { command: 'unused' }]));
    const config = validateConfig(
      { listen: { host: '127.0.0.1', port: 0 }, access: [{ allow: { groups: ['eng'], servers: ['*'] } }], servers, ...input, dataDir },
      'test',
      dataDir,
      { env },
    );
    const log = process.env.GH_TEST_LOG ? createLogger({ level: process.env.GH_TEST_LOG as 'debug' }) : silentLogger();
    // In-process audit writes: the threaded writer loads its worker from built JavaScript (dist).
    const gateway = await Gateway.start(config, {
      log,
      storage: SqliteStorage.open(dataDir),
      env,
      connectors: new Map<string, Connector>(fakes.map((c) => [c.name, c])),
      drainTimeoutMs: 1000,
      upstreamStartWaitMs: 100,
    });
    return new OAuthGateway(gateway, dataDir, fakes);
  }

  get url(): string {
    return this.gateway.url;
  }
  get mcpUrl(): string {
    return `${this.gateway.url}/mcp`;
  }
  get assembly() {
    return this.gateway.assembly;
  }

  async addUser(name: string, groups: string[] = ['eng'], password = PASSWORD): Promise<void> {
    await this.assembly.users.add(name, password, groups);
  }

  browser(): Browser {
    const origin = new URL(this.url).origin;
    return new Browser((u) => u.origin === origin);
  }

  async auditKinds(): Promise<string[]> {
    await this.assembly.audit.flush();
    return (await this.assembly.storage.audit.query({ limit: 100_000 })).map((r) => r.kind);
  }

  async auditBodies(kind: string): Promise<Record<string, unknown>[]> {
    await this.assembly.audit.flush();
    return (await this.assembly.storage.audit.query({ kinds: [kind], limit: 100_000 })).map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }

  stop(): Promise<void> {
    return this.gateway.stop();
  }
}

export interface SignInOptions {
  username?: string;
  password?: string;
  decision?: 'allow' | 'deny';
  totp?: () => string;
}

/**
 * Drives the browser part of an authorization: opens the authorization URL, signs in, answers
 * consent, and returns the URL the gateway finally redirects to (the client's redirect URI).
 */
export async function signIn(browser: Browser, authorizationUrl: string | URL, options: SignInOptions = {}): Promise<URL> {
  let { response, url } = await browser.go(authorizationUrl);
  for (let step = 0; step < 6; step++) {
    if (response.status >= 300 && response.status < 400) return url;
    const text = await response.text();
    if (response.status !== 200) throw new Error(`sign-in stopped at ${url.href}: ${response.status} ${text.slice(0, 500)}`);
    const [form] = forms(text);
    if (!form) throw new Error(`no form on ${url.href}: ${text.slice(0, 500)}`);
    if ('password' in form.fields || /type="password"/.test(text)) {
      ({ response, url } = await browser.submit(url, form, { username: options.username ?? 'alice', password: options.password ?? PASSWORD }));
    } else if ('code' in form.fields || /name="code"/.test(text)) {
      if (!options.totp) throw new Error('a TOTP code was asked for');
      ({ response, url } = await browser.submit(url, form, { code: options.totp() }));
    } else if (/name="decision"/.test(text)) {
      ({ response, url } = await browser.submit(url, form, { decision: options.decision ?? 'allow' }));
    } else {
      throw new Error(`unexpected page at ${url.href}: ${text.slice(0, 500)}`);
    }
  }
  throw new Error('sign-in did not finish');
}
