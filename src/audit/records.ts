import type { AuditActor, AuditBody, AuditTarget } from './events.js';
import { hashArguments, redactArguments } from './redact-arguments.js';

/**
 * The one place audit records get their `actor` and `target` parts, so every room describes
 * who did what the same way (SIEM rules and `audit query` filter on these fields).
 *
 * The inputs are structural (a `Principal` fits `ActorFacts`) so the audit room depends on no
 * other room.
 */

/** What a verified token says about its holder (a `Principal` from the tokens room fits). */
export interface ActorFacts {
  sub: string;
  groups?: readonly string[] | undefined;
  clientId?: string | undefined;
  jti?: string | undefined;
  /** RFC 8693 actor chain, outermost first. */
  act?: readonly string[] | undefined;
}

/** Where a request came from: the MCP session and the client address. */
export interface OriginFacts {
  sessionId?: string | undefined;
  ip?: string | undefined;
}

/** The actor of a request made with a token: user, groups, client, token id, actor chain, session and address. */
export function actorOf(who: ActorFacts, origin: OriginFacts = {}): AuditActor {
  return {
    sub: who.sub,
    ...(who.groups !== undefined ? { groups: who.groups } : {}),
    client: who.clientId,
    session: origin.sessionId,
    ip: origin.ip,
    jti: who.jti,
    ...(who.act !== undefined && who.act.length > 0 ? { act: who.act } : {}),
  };
}

/** A person or process acting outside a token: an operator at the CLI (`--as`), the gateway itself. */
export function namedActor(sub: string, extra: Omit<AuditActor, 'sub'> = {}): AuditActor {
  return { sub, ...extra };
}

/** Someone not (yet) known: a failed sign-in or an unauthenticated request, by address only. */
export function anonymousActor(ip: string | undefined): AuditActor {
  return { sub: '-', ip };
}

/** The thing a request addresses. `kind` and `id` as an `Operation` carries them (`id` is `server__tool` or the URI). */
export interface TargetFacts {
  server: string;
  kind: 'tool' | 'prompt' | 'resource' | 'server' | string;
  id: string;
}

export function targetOf(target: TargetFacts): AuditTarget {
  switch (target.kind) {
    case 'tool':
      return { server: target.server, tool: target.id };
    case 'prompt':
      return { server: target.server, prompt: target.id };
    case 'resource':
      return { server: target.server, resource: target.id };
    default:
      return { server: target.server };
  }
}

/** One request for a call, as every record about it describes it. */
export interface CallFacts {
  /** Gateway-assigned id, in every record of this request. */
  requestId: string;
  who: ActorFacts;
  origin?: OriginFacts | undefined;
  /** The JSON-RPC method. */
  method: string;
  /** What it addresses: resolved (`TargetFacts`), or as far as it is known (an `AuditTarget`). */
  target: TargetFacts | AuditTarget;
  /** The call's arguments, recorded redacted and bound by the hash of the exact original; undefined: none. */
  args?: unknown;
}

/** The part of a record that says who called what with which arguments (intent, outcome, refusals, lists). */
export function describeCallOf(call: CallFacts): Pick<AuditBody, 'requestId' | 'actor' | 'method' | 'target' | 'args' | 'argsHash'> {
  return {
    requestId: call.requestId,
    actor: actorOf(call.who, call.origin),
    method: call.method,
    target: 'kind' in call.target && 'id' in call.target ? targetOf(call.target as TargetFacts) : (call.target as AuditTarget),
    ...(call.args !== undefined ? { args: redactArguments(call.args), argsHash: hashArguments(call.args) } : {}),
  };
}
