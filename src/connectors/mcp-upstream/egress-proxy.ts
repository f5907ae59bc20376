import type { AuditLog } from '../../audit/index.js';
import { isStdioServer, type LoadedConfig, type ServerConfig } from '../../config/index.js';
import { auditBlockedEgress, EgressGuard, sandboxForwarderPath, startConnectProxy } from '../../egress/index.js';
import type { UpstreamSandbox } from '../../sandbox/index.js';

/**
 * For a sandboxed stdio server with `network: egress`: its CONNECT proxy (the server's own
 * egress rules plus the global allow-list) and what the sandbox needs to reach it. Other
 * servers' plans are returned as they are.
 */
export async function withEgressProxy(
  name: string,
  server: ServerConfig,
  plan: UpstreamSandbox | undefined,
  config: LoadedConfig,
  audit: AuditLog,
): Promise<UpstreamSandbox | undefined> {
  if (!plan?.decision.on || plan.decision.network !== 'egress' || !isStdioServer(server)) return plan;
  const proxy = await startConnectProxy({
    guard: new EgressGuard({
      purpose: `stdio server ${name}`,
      allowHosts: [...server.egress.allow, ...config.egress.allow],
      allowAddresses: server.egress.allowAddresses,
      onBlocked: auditBlockedEgress(audit),
    }),
  });
  return { ...plan, egress: { socket: proxy.socketPath, forwarder: sandboxForwarderPath(), node: process.execPath } };
}
