import { existsSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditLog } from '../../audit/index.js';
import type { ConnectorServerConfig, LoadedConfig } from '../../config/index.js';
import { auditBlockedEgress } from '../../egress/index.js';
import { ConfigError } from '../../errors/index.js';
import { sandboxPreloadArgs } from '../../hardening/index.js';
import type { Logger } from '../../log/index.js';
import { decideSandbox, detectBubblewrap, gatewayProtectedPaths, wrapConnector, type BubblewrapProbe, type SandboxDecision } from '../../sandbox/index.js';
import type { Vault } from '../../vault/index.js';
import { createHttpAuth } from '../http/auth-providers.js';
import type { HttpAuth } from '../http/auth-port.js';
import type { ConnectionRegistry } from '../http/auth/connections.js';
import type { SubjectTokenSource } from '../http/auth/token-exchange.js';
import { ConnectorProcess } from './connector-process.js';
import { SdkConnector } from './sdk-connector.js';
import { credentialFetch } from '../credential-fetch.js';

export { ConnectorProcess, ConnectorProcessError } from './connector-process.js';
export { SdkConnector, effectAnnotations } from './sdk-connector.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONNECTOR_EXTENSIONS = ['.js', '.mjs', '.ts', '.mts'];

/**
 * The SDK's runtime folder: beside this module once built. Run from source (the test suite),
 * the built copy is used: Node runs the host as plain JavaScript inside the sandbox.
 */
export function sdkRuntimeDir(): string {
  const sibling = path.resolve(here, '../sdk');
  if (existsSync(path.join(sibling, 'host.js'))) return sibling;
  return path.resolve(here, '../../../dist/connectors/sdk');
}

function zodDir(): string {
  return realpathSync(path.dirname(createRequire(import.meta.url).resolve('zod/package.json')));
}

/** The package.json beside the SDK's folder ("type": "module"), so Node reads the SDK as ES modules. */
function packageJsonOf(dir: string): string | undefined {
  for (let at = dir; at !== path.dirname(at); at = path.dirname(at)) {
    const candidate = path.join(at, 'package.json');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface SdkConnectorFactoryDeps {
  config: LoadedConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  vault: Vault;
  audit: AuditLog;
  connections?: ConnectionRegistry | undefined;
  subjectToken?: SubjectTokenSource | undefined;
  /** One bubblewrap trial for all connectors of a gateway. */
  probe?: () => Promise<BubblewrapProbe>;
}

/** The connector for `servers.<name>.connector`, with its sandbox decided and its credential providers built. */
export async function createSdkConnector(name: string, server: ConnectorServerConfig, deps: SdkConnectorFactoryDeps): Promise<SdkConnector> {
  const { config, log } = deps;
  const where = `servers.${name}.connector`;
  const file = path.resolve(config.baseDir, server.connector);
  const issue = (message: string) => new ConfigError(`${where}: ${message}`, [{ path: where, message }]);
  if (!CONNECTOR_EXTENSIONS.includes(path.extname(file))) throw issue(`${file} is not a .js, .mjs, .ts or .mts module`);
  let real: string;
  try {
    real = realpathSync(file);
    if (!statSync(real).isFile()) throw new Error('not a file');
  } catch {
    throw issue(`${file} does not exist or is not a file`);
  }
  const { protect, home } = gatewayProtectedPaths(config, deps.env);
  const folder = path.dirname(real);
  const hit = protect.strict.find((p) => folder === p || folder.startsWith(`${p}/`) || real === p);
  if (hit) throw issue(`${file} is inside ${hit}, which the gateway keeps from every sandboxed process`);

  let decision: SandboxDecision;
  if (server.sandbox.mode === 'dangerously-off') {
    decision = decideSandbox(name, { mode: 'dangerously-off', network: 'none', readable: [], writable: [] }, undefined, config.baseDir, protect);
  } else {
    const probe = await (deps.probe ?? (() => detectBubblewrap({ searchPath: deps.env.PATH })))();
    const decided = decideSandbox(name, { mode: server.sandbox.mode, network: 'none', readable: [], writable: [] }, probe, config.baseDir, protect);
    if (!decided.on && server.sandbox.mode === 'required') throw issue('sandbox required but unavailable');
    decision = decided;
  }
  if (!decision.on)
    log.warn(
      { server: name, sandbox: 'off' },
      `SANDBOX OFF for connector "${name}" (${decision.reason}): only a separate process and Node's permission model confine it`,
    );

  const sdk = sdkRuntimeDir();
  const readable = [folder, sdk, zodDir()];
  const pkg = packageJsonOf(sdk);
  const nodeArgs = [
    // Second fence inside the sandbox (and the only file fence when the sandbox is off): Node's
    // permission model — no child processes, workers or native addons, reads only below these paths.
    '--permission',
    ...readable.map((p) => `--allow-fs-read=${p}`),
    ...(pkg ? [`--allow-fs-read=${pkg}`] : []),
    '--disallow-code-generation-from-strings',
    '--max-old-space-size=256',
    '--no-warnings',
  ];
  const processEnv: Record<string, string> = { HOME: '/tmp', NODE_ENV: 'production' };
  const child = new ConnectorProcess({
    server: name,
    log,
    target: () =>
      wrapConnector(
        {
          node: process.execPath,
          args: [...nodeArgs, path.join(sdk, 'host.js'), real],
          readable: pkg ? [...readable, pkg] : readable,
          cwd: folder,
          env: processEnv,
        },
        decision,
        { home, protect, innerArgs: sandboxPreloadArgs(processEnv) },
      ),
    startupTimeoutMs: 30_000,
    restartBackoffInitialMs: config.upstream.restartBackoffInitial,
    restartBackoffMaxMs: config.upstream.restartBackoffMax,
  });

  const onBlocked = auditBlockedEgress(deps.audit);
  const credentials = new Map<string, HttpAuth>();
  for (const [credential, auth] of Object.entries(server.credentials)) {
    const authFetch = credentialFetch(
      {
        purpose: `connector ${name} credentials`,
        allowHosts: [...server.egress.allow, ...config.egress.allow],
        allowAddresses: server.egress.allowAddresses,
        onBlocked,
      },
      server.egress.dangerouslyAllowInsecureTls,
    );
    credentials.set(
      credential,
      createHttpAuth(name, auth, {
        log: log.child({ server: name, credential }),
        vault: deps.vault,
        audit: deps.audit,
        fetch: authFetch,
        publicUrl: config.publicUrl,
        baseDir: config.baseDir,
        connections: deps.connections,
        subjectToken: deps.subjectToken,
      }),
    );
  }
  return new SdkConnector(name, server, {
    log,
    process: child,
    credentials,
    globalAllow: config.egress.allow,
    timeoutMs: server.timeout ?? config.limits.upstreamTimeout,
    sandbox: { on: decision.on, reason: decision.reason },
    onBlocked,
  });
}
