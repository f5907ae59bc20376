import type { Hono } from 'hono';
import type { ApprovalService } from './approvals/index.js';
import { AuditKind, type AuditLog, anonymousActor } from './audit/index.js';
import type { LoadedConfig } from './config/index.js';
import { connectionsPage } from './console/connections-page.js';
import { approvalPages, type ConsoleAuth, noConsoleAuth, toolPinPages } from './console/index.js';
import type { ConnectionRegistry } from './connectors/http/auth/connections.js';
import type { Connector } from './connectors/index.js';
import { hardeningStatus } from './hardening/index.js';
import { createHttpApp } from './http/index.js';
import type { requestClientIp } from './http/client-ip.js';
import { readinessCheck } from './http/readiness.js';
import { protectedResourceMetadata, resourceMetadataUrl } from './http/resource-metadata.js';
import type { ConditionalAccess } from './identity/conditional-access.js';
import type { Logger } from './log/index.js';
import { callerListDigest, callerToolInputSchema } from './mcp/caller-catalog.js';
import type { CatalogView } from './mcp/catalog-view.js';
import { type FrontDoorDeps, mcpEndpoint, recreateSession } from './mcp/front-door.js';
import type { Router } from './mcp/router.js';
import { scopeGate } from './mcp/scope-gate.js';
import type { SessionRegistry } from './mcp/session.js';
import { SharedSessions } from './mcp/shared-sessions.js';
import type { StatelessPool } from './mcp/stateless/index.js';
import type { InputRequiredBroker } from './mcp/stateless/resume.js';
import type { OAuthServer } from './oauth/server.js';
import type { PolicyStore } from './policy/policy-store.js';
import type { Storage } from './storage/index.js';
import { type AccessTokenVerifier, BASE_SCOPE, DPOP_ALGS, DpopVerifier, type ReplayCache } from './tokens/index.js';

export interface FrontDoorParts {
  config: LoadedConfig;
  storage: Storage;
  audit: AuditLog;
  log: Logger;
  verifier: AccessTokenVerifier;
  audience: string;
  clientIp: ReturnType<typeof requestClientIp>;
  access: ConditionalAccess;
  oauth: OAuthServer | undefined;
  consoleAuth: ConsoleAuth | undefined;
  dpopReplays: ReplayCache;
  connectors: Map<string, Connector>;
  view: CatalogView;
  router: Router;
  sessions: SessionRegistry;
  stateless: StatelessPool;
  inputRequired: InputRequiredBroker;
  policies: PolicyStore | undefined;
  approvals: ApprovalService;
  connections: ConnectionRegistry;
}

/**
 * Part of the composition root: the HTTP front door — `/mcp` behind authentication and the
 * scope gate, the resource metadata, health and readiness, and the pages people use (the
 * authorization server, `/connections`, the console).
 */
export function wireFrontDoor(p: FrontDoorParts): Hono {
  const { config, audit, log, oauth, connectors, view } = p;
  // The console's sign-in is the authorization server's (the browser session /account uses);
  // without the authorization server nobody can sign in, so the console decides nothing.
  const auth = p.consoleAuth ?? oauth?.consoleAuth() ?? noConsoleAuth;
  return createHttpApp({
    publicUrl: config.publicUrl,
    allowedOrigins: config.cors.allowedOrigins,
    maxRequestBody: config.limits.maxRequestBody,
    verify: (token) => p.verifier.verify(token),
    onAuthFailure: (error, c) => {
      const body = { actor: anonymousActor(p.clientIp(c)), method: c.req.method, outcome: { status: 'denied' as const, code: error.code } };
      void audit.append(AuditKind.AuthFailure, body, { durable: false });
    },
    resourceMetadata: () =>
      protectedResourceMetadata({
        resource: p.audience,
        authorizationServer: oauth ? config.publicUrl : undefined,
        scopes: [BASE_SCOPE, ...[...connectors.keys()].map((name) => `server:${name}`)],
        dpopAlgs: DPOP_ALGS,
        dpopRequired: config.oauth.dpop.required,
      }),
    challengeScope: BASE_SCOPE,
    dpop: new DpopVerifier(undefined, p.dpopReplays),
    mcp: mcpEndpoint({
      ...{ router: p.router, sessions: p.sessions, audit, log, clientIp: p.clientIp, maxBatch: config.limits.maxBatch },
      shared: sharedSessions(p),
      ...{ stateless: p.stateless, inputRequired: p.inputRequired },
      toolInputSchema: callerToolInputSchema(view),
      listDigest: callerListDigest(view),
      gate: scopeGate({
        ...{ view, audit, resourceMetadataUrl: resourceMetadataUrl(config.publicUrl) },
        ...(p.access.empty ? {} : { networkCheck: (principal, ip) => p.access.checkNetwork(principal.groups, ip)?.message }),
      }),
    }),
    health: () => ({ alive: true }),
    readiness: readinessCheck({
      probeStorage: () => p.storage.probeWritable(),
      auditHealthy: () => audit.healthy,
      upstreams: () => connectors.values(),
      policies: () => p.policies?.status() ?? { mode: 'access' as const, rules: config.access.length },
      extra: () => ({ hardening: hardeningStatus() }),
    }),
    onError: (error) => log.error({ err: error }, 'unhandled HTTP error'),
    mount: (app) => {
      if (oauth) app.route('/', oauth.routes() as unknown as Hono);
      // Same sign-in as the console: a person connects their own downstream accounts here.
      app.route('/connections', connectionsPage({ registry: p.connections, auth, publicUrl: config.publicUrl, log }));
      app.route('/console', approvalPages({ service: p.approvals, auth, publicUrl: config.publicUrl, mfaMaxAgeMs: config.approvals.consoleMfaMaxAge }));
      app.route(
        '/console',
        toolPinPages({
          ...{ store: p.storage.toolPins, audit, auth, approvers: config.approvals.approvers },
          ...{ publicUrl: config.publicUrl, mfaMaxAgeMs: config.approvals.consoleMfaMaxAge },
        }),
      );
    },
  });
}

/** Session-era sessions in the store: any node serves any request of a session (see SharedSessions). */
function sharedSessions(p: FrontDoorParts): FrontDoorDeps['shared'] {
  const deps = { router: p.router, sessions: p.sessions, audit: p.audit };
  const shared = new SharedSessions({
    store: p.storage.mcpSessions,
    sessions: p.sessions,
    idleTimeoutMs: p.config.limits.sessionIdleTimeout,
    log: p.log.child({ component: 'sessions' }),
    recreate: (record) => recreateSession(deps, record),
  });
  p.sessions.observeClose((session, reason) => shared.closedLocally(session, reason));
  p.sessions.periodically(() => shared.reconcile());
  return shared;
}
