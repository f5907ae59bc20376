import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { AuditKind, type AuditLog, namedActor } from './audit/index.js';
import type { LoadedConfig } from './config/index.js';
import type { Connector } from './connectors/index.js';
import type { UpstreamHooks } from './connectors/mcp-upstream/index.js';
import type { Logger } from './log/index.js';
import { SessionRegistry } from './mcp/session.js';
import { StatelessPool } from './mcp/stateless/index.js';
import { UpstreamRelay } from './mcp/upstream-relay.js';
import type { ToolPins } from './pinning/index.js';

/**
 * Part of the composition root: the sessions, the relay upstream servers report to, and the
 * hooks connectors are built with. `connectors` is filled by the caller once the hooks exist;
 * `pins` is set once the catalog view exists (a catalog that loads before only waits for it).
 */
export function wireUpstreams(config: LoadedConfig, connectors: Map<string, Connector>, audit: AuditLog, log: Logger) {
  const stateless = new StatelessPool();
  const sessions = new SessionRegistry({
    maxPerUser: config.limits.maxSessionsPerUser,
    idleTimeoutMs: config.limits.sessionIdleTimeout,
    onClosed: (session, reason) => {
      stateless.forget(session);
      const others = sessions.forUser(session.sub).size > 0;
      for (const connector of connectors.values()) void connector.release({ sub: session.sub, sessionId: session.id }, others);
      void audit.append(
        AuditKind.SessionEnd,
        { actor: namedActor(session.sub, { session: session.id, client: session.clientId }), reason },
        { durable: false },
      );
    },
  });
  const forwardRoots = (server: string) => config.servers[server]?.forwardRoots === true;
  const relay = new UpstreamRelay({ sessions, audit, log, forwardRoots });
  const pinning: { pins?: ToolPins } = {};
  // Definitions are pinned (or quarantined and audited) as soon as a catalog loads, not only
  // when an agent next lists: a rug pull is on record when it happens.
  const observeTools = (instance: { server: string; catalog: { tools: Tool[] } }) =>
    void pinning.pins
      ?.admit(instance.server, instance.catalog.tools)
      .catch((error: unknown) => log.error({ err: error, server: instance.server }, 'tool pinning failed'));
  const hooks: UpstreamHooks = {
    onServerRequest: (...a) => relay.onServerRequest(...a),
    onNotification: (...a) => relay.onNotification(...a),
    onCatalogChanged: (instance, kind) => {
      if (kind === 'tools') observeTools(instance);
      relay.onCatalogChanged(instance, kind);
    },
    onStateChanged: (instance, state, exit) => {
      if (state === 'ready') observeTools(instance);
      relay.onStateChanged(instance, state, exit);
    },
  };
  return { stateless, sessions, relay, hooks, forwardRoots, pinning };
}
