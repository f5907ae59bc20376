import type { LoadedConfig } from '../config/index.js';
import type { Connector } from '../connectors/index.js';
import { McpUpstreamConnector, type UpstreamInstance } from '../connectors/mcp-upstream/index.js';
import type { Executor } from '../pipeline/index.js';
import type { ToolPinStore } from '../storage/ports/index.js';
import { ToolPins, type ToolPinsOptions } from './tool-pins.js';
import { markUntrusted, type UntrustedOptions } from './untrusted-results.js';

/**
 * Pins for every proxied MCP server in the config. Built-in connectors (PostgreSQL, HTTP)
 * define their tools from Gatehouse's own config, so there is nothing upstream to distrust.
 */
export function toolPinsFor(
  config: LoadedConfig,
  connectors: ReadonlyMap<string, Connector>,
  store: ToolPinStore,
  audit: ToolPinsOptions['audit'],
  log: ToolPinsOptions['log'],
): ToolPins {
  return new ToolPins({
    store,
    audit,
    log,
    settings: (server) => {
      const configured = config.servers[server];
      if (connectors.get(server)?.kind !== 'mcp-upstream' || !configured || !('pinning' in configured)) return undefined;
      return configured.pinning;
    },
    foreignTools: (server) => {
      const names = new Set<string>();
      for (const connector of connectors.values()) {
        if (connector.name === server || !(connector instanceof McpUpstreamConnector)) continue;
        for (const instance of connector.pool.instances.values()) for (const tool of instance.catalog.tools) names.add(tool.name);
      }
      return names;
    },
  });
}

/** The executor for a server: its connector, with provenance marking when the server is `trust: untrusted`. */
export function untrustedAware(config: LoadedConfig, audit: UntrustedOptions['audit']): (server: string, executor: Executor) => Executor {
  const wrapped = new Map<string, Executor>();
  return (server, executor) => {
    const configured = config.servers[server];
    if (!configured || !('trust' in configured) || configured.trust !== 'untrusted') return executor;
    let marked = wrapped.get(server);
    if (!marked) wrapped.set(server, (marked = markUntrusted(executor, { server, audit })));
    return marked;
  };
}

/**
 * After an approval written by another process (the CLI), the sessions of that server's
 * instances get `notifications/tools/list_changed`: the approved tool appears without the
 * agent having to guess when to list again.
 */
export async function announceApprovals(
  pins: ToolPins,
  connectors: ReadonlyMap<string, Connector>,
  notify: (instance: UpstreamInstance) => void,
): Promise<void> {
  for (const server of await pins.reload()) {
    const connector = connectors.get(server);
    if (connector instanceof McpUpstreamConnector) for (const instance of connector.pool.instances.values()) notify(instance);
  }
}
