import { AuditKind, type AuditLog } from '../audit/index.js';
import type { LoadedConfig } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { CedarAuthorizerSettings } from './cedar-authorizer.js';
// Types only: Cedar (a ~14 MB WebAssembly module) loads only when `policies:` is set.
import type { PolicyEvent, PolicyStore } from './policy-store.js';

/** The settings policies are evaluated with, as configured (the gateway and `gatehouse policy` use the same). */
export function policySettingsOf(config: LoadedConfig): CedarAuthorizerSettings {
  return {
    timeZone: config.policySettings.timeZone,
    destructiveTools: config.policySettings.destructiveTools,
    classification: (server: string, tool: string) => config.servers[server]?.tools[tool]?.classification,
  };
}

/** Loads the policy folder (a gateway does not start on policies it cannot load) and audits every (re)load. */
export async function openPolicies(config: LoadedConfig, log: Logger, audit: AuditLog): Promise<PolicyStore> {
  const [{ PolicyStore }, { formatProblem, PolicyLoadError }] = await Promise.all([import('./policy-store.js'), import('./cedar/policy-set.js')]);
  const onEvent = (event: PolicyEvent) => {
    if (event.kind === 'loaded') {
      const body = { policies: { folder: config.policies, count: event.set.policies.length, files: event.set.files, digest: event.set.digest } };
      void audit.append(event.reload ? AuditKind.PolicyReloaded : AuditKind.PolicyLoaded, body, { durable: false });
    } else {
      void audit.append(AuditKind.PolicyReloadRefused, { policies: { folder: config.policies, problems: event.problems } }, { durable: false });
    }
  };
  try {
    return PolicyStore.open(config.policies as string, policySettingsOf(config), log, onEvent);
  } catch (error) {
    if (error instanceof PolicyLoadError) {
      const issues = error.problems.map((p) => ({ path: `policies (${formatProblem(p).split(': ')[0]})`, message: p.message }));
      throw new ConfigError(`the policies in ${config.policies} cannot be loaded:\n${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, issues);
    }
    throw error;
  }
}
