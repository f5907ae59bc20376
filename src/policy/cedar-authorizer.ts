import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../tokens/index.js';
import { denyMessage } from './access-list.js';
import type { CompiledPolicy } from './cedar/compiled-policy.js';
import type { CompiledPolicySet } from './cedar/policy-set.js';
import { ArgumentTypeError, toDeclaredValue, type SchemaType } from './cedar/schema-model.js';
import type { CedarEntity, ContextSource, EntityRef, EvalRequest, EvalResult } from './cedar/types.js';
import type { CedarValueJson } from './cedar/wasm.js';
import { mfaFacts, timeFacts } from './request-facts.js';
import type { Action, ApprovalLevel, Authorizer, AuthzRequest, Decision } from './types.js';

export interface CedarAuthorizerSettings {
  /** IANA zone for `context.time`. */
  timeZone: string;
  /** Approval level for calls of tools annotated destructive, unless a deciding policy says otherwise. */
  destructiveTools: ApprovalLevel;
  /** Classification of a tool by qualified id (config); `internal` when unset. */
  classification?: (server: string, tool: string) => string | undefined;
  /** The principal's clearance (`principal.clearance`, when the schema declares it on `User`). */
  clearance?: (principal: Principal) => string;
}

/** Reason ids of the decisions this authorizer makes (stable: clients and dashboards match on them). */
export const PolicyReason = {
  NotAllowed: 'not_allowed',
  Forbidden: 'forbidden',
  PolicyError: 'policy_error',
  InvalidArguments: 'invalid_arguments',
  ApprovalRequired: 'approval_required',
  ConfirmationRequired: 'confirmation_required',
} as const;

/** The id reported for a deny no policy decided (nothing permitted the request). */
export const DEFAULT_DENY = 'default-deny';

const LEVEL_RANK: Record<ApprovalLevel, number> = { none: 0, confirm: 1, 'four-eyes': 2 };
const UNKNOWN_ARGS: CedarValueJson = { __extn: { fn: 'unknown', arg: 'args' } };
const USE_ACTION: Record<AuthzRequest['kind'], Action> = { tool: 'call', prompt: 'get', resource: 'read', server: 'list' };
const ACTION_REFS: Record<Action, EntityRef> = {
  call: { type: 'Action', id: 'call' },
  read: { type: 'Action', id: 'read' },
  get: { type: 'Action', id: 'get' },
  list: { type: 'Action', id: 'list' },
};

export interface Explanation {
  decision: Decision;
  /** Cedar's raw result: determining policies and errors. */
  result: EvalResult | undefined;
  request: { principal: CedarEntity; action: EntityRef; resource: CedarEntity; context: Record<string, CedarValueJson> };
  applicable: readonly CompiledPolicy[];
}

/**
 * The Cedar policy decision point. Builds the request's entities (User in its Groups, the
 * Tool in its Server with its annotations) and a lazily built context, asks the sliced
 * evaluator, and maps Cedar's allow/deny onto allow / deny(reason, policy) / require_approval.
 *
 * Gatehouse rules on top of Cedar's:
 * - fail closed: a `forbid` that errors (e.g. reads an argument of the wrong type) denies;
 * - approval: an allow becomes require_approval when a determining permit says
 *   `@approval("four-eyes" | "confirm")`, or when the tool is destructive and no determining
 *   permit says `@approval("none")` (the strictest level among determining permits wins);
 * - lists: an item is shown when its use action could be allowed for some arguments.
 */
export class CedarAuthorizer implements Authorizer {
  readonly readsApprovalState: boolean;
  readonly #converted = new WeakMap<object, CedarValueJson>();

  constructor(
    readonly policySet: CompiledPolicySet,
    private readonly settings: CedarAuthorizerSettings,
  ) {
    this.readsApprovalState = policySet.readsContext('approval');
  }

  decide(request: AuthzRequest): Decision {
    try {
      if (request.action === 'list') return this.#visible(request);
      const evalRequest = this.#evalRequest(request, request.action, false);
      return this.#decision(request, this.policySet.sliced.evaluate(evalRequest));
    } catch (error) {
      return this.#failure(request, error);
    }
  }

  argumentProblem(request: AuthzRequest): string | undefined {
    try {
      this.#args(request);
      return undefined;
    } catch (error) {
      if (error instanceof ArgumentTypeError) return error.message;
      throw error;
    }
  }

  /** The decision with everything that went into it (for `gatehouse policy explain`). */
  explain(request: AuthzRequest, options: { plain?: boolean } = {}): Explanation {
    const action = request.action === 'list' ? USE_ACTION[request.kind] : request.action;
    let evalRequest: EvalRequest | undefined;
    let result: EvalResult | undefined;
    let decision: Decision;
    try {
      evalRequest = this.#evalRequest(request, action, request.action === 'list');
      if (request.action === 'list') decision = this.#visible(request);
      else {
        result = (options.plain ? this.policySet.plain : this.policySet.sliced).evaluate(evalRequest);
        decision = this.#decision(request, result);
      }
    } catch (error) {
      decision = this.#failure(request, error);
    }
    const entities = evalRequest?.entities ?? [];
    return {
      decision,
      result,
      request: {
        principal: entities[0] as CedarEntity,
        action: ACTION_REFS[action],
        resource: entities[1] as CedarEntity,
        context: evalRequest ? safeAll(evalRequest.context) : {},
      },
      applicable: evalRequest ? this.policySet.sliced.applicable(evalRequest) : [],
    };
  }

  /** The Cedar request `decide` evaluates (benchmarks compare evaluators on it). */
  evalRequestFor(request: AuthzRequest): EvalRequest {
    return this.#evalRequest(request, request.action === 'list' ? USE_ACTION[request.kind] : request.action, request.action === 'list');
  }

  #visible(request: AuthzRequest): Decision {
    const evalRequest = this.#evalRequest(request, USE_ACTION[request.kind], true);
    const outcome = this.policySet.sliced.evaluatePartial(evalRequest);
    return outcome === 'deny' ? { effect: 'deny', reason: PolicyReason.NotAllowed, message: denyMessage(request) } : { effect: 'allow' };
  }

  #decision(request: AuthzRequest, result: EvalResult): Decision {
    const set = this.policySet;
    for (const error of result.errors) {
      if (set.policy(error.policy)?.effect === 'forbid') {
        return {
          effect: 'deny',
          reason: PolicyReason.PolicyError,
          message: `The call to "${request.id}" could not be checked against policy, so it was refused.`,
          policy: error.policy,
        };
      }
    }
    if (result.decision === 'deny') {
      const first = result.reasons[0];
      if (first === undefined) return { effect: 'deny', reason: PolicyReason.NotAllowed, message: denyMessage(request), policy: DEFAULT_DENY };
      const policy = set.policy(first);
      return {
        effect: 'deny',
        reason: policy?.annotations.reason ?? PolicyReason.Forbidden,
        message: policy?.annotations.message ?? denyMessage(request),
        policy: first,
        policies: result.reasons,
      };
    }
    let level: ApprovalLevel = 'none';
    let deciding = result.reasons[0];
    const fallback: ApprovalLevel = request.kind === 'tool' && request.annotations?.destructiveHint === true ? this.settings.destructiveTools : 'none';
    for (const id of result.reasons) {
      const own = set.policy(id)?.annotations.approval as ApprovalLevel | undefined;
      const needed = own ?? fallback;
      if (LEVEL_RANK[needed] > LEVEL_RANK[level]) {
        level = needed;
        deciding = id;
      }
    }
    if (level === 'none') return { effect: 'allow', policy: result.reasons[0], policies: result.reasons };
    return {
      effect: 'require_approval',
      level,
      reason: level === 'four-eyes' ? PolicyReason.ApprovalRequired : PolicyReason.ConfirmationRequired,
      policy: deciding,
      policies: result.reasons,
    };
  }

  #failure(request: AuthzRequest, error: unknown): Decision {
    if (error instanceof ArgumentTypeError) return { effect: 'deny', reason: PolicyReason.InvalidArguments, message: error.message };
    return { effect: 'deny', reason: PolicyReason.PolicyError, message: `The call to "${request.id}" could not be checked against policy, so it was refused.` };
  }

  #args(request: AuthzRequest): CedarValueJson {
    const args = request.args ?? EMPTY;
    const hit = this.#converted.get(args);
    if (hit !== undefined) return hit;
    const type = this.policySet.schema.args;
    const value: CedarValueJson = type?.kind === 'Record' ? toDeclaredValue(args, type, '') : {};
    this.#converted.set(args, value);
    return value;
  }

  #evalRequest(request: AuthzRequest, action: Action, argsUnknown: boolean): EvalRequest {
    const { principal } = request;
    const user: CedarEntity = {
      uid: { type: 'User', id: principal.sub },
      attrs: this.#userAttrs(principal),
      parents: principal.groups.map((g) => ({ type: 'Group', id: g })),
    };
    return {
      principal: user.uid,
      action: ACTION_REFS[action],
      resource: resourceRef(request),
      entities: [user, this.#resourceEntity(request)],
      context: new RequestContext(this, request, argsUnknown),
    };
  }

  /** @internal for RequestContext */
  contextValue(key: string, request: AuthzRequest, argsUnknown: boolean): CedarValueJson | undefined {
    const facts = request.facts ?? {};
    const now = facts.now ?? Date.now();
    const { principal } = request;
    switch (key) {
      case 'args':
        return argsUnknown ? UNKNOWN_ARGS : this.#args(request);
      case 'method':
        return facts.method ?? methodOf(request);
      case 'time':
        return timeFacts(now, this.settings.timeZone) as unknown as CedarValueJson;
      case 'sourceIp':
        return facts.ip ? { __extn: { fn: 'ip', arg: stripZone(facts.ip) } } : undefined;
      case 'mfa':
        return mfaFacts(principal, now) as unknown as CedarValueJson;
      case 'scopes':
        return [...principal.scopes];
      case 'authorizationDetails':
        return (principal.authorizationDetails ?? []).map((d) => plainValue(d, 0)).filter((d): d is CedarValueJson => d !== undefined);
      case 'client':
        return principal.clientId ? { __entity: { type: 'Client', id: principal.clientId } } : undefined;
      case 'clientName':
        return facts.clientName;
      case 'actors':
        return [...principal.act];
      case 'approval':
        return { granted: facts.approval?.granted ?? false, breakGlass: facts.approval?.breakGlass ?? false };
      default:
        return undefined;
    }
  }

  #userAttrs(principal: Principal): Record<string, CedarValueJson> {
    const attrs: Record<string, CedarValueJson> = {};
    for (const [name, { type }] of this.policySet.schema.userAttributes) {
      if (name === 'clearance' && this.settings.clearance) {
        // From config (groups, claim, client kind), never taken from a token claim as it is.
        attrs.clearance = this.settings.clearance(principal);
        continue;
      }
      const claim = principal.claims[name];
      if (claim === undefined || claim === null) continue;
      try {
        attrs[name] = toDeclaredValue(claim, type as SchemaType, name);
      } catch {
        // A claim of another type is left out, as if the IdP had not sent it.
      }
    }
    return attrs;
  }

  #resourceEntity(request: AuthzRequest): CedarEntity {
    const server: EntityRef = { type: 'Server', id: request.server };
    switch (request.kind) {
      case 'tool': {
        const name = request.id.startsWith(`${request.server}__`) ? request.id.slice(request.server.length + 2) : request.id;
        return {
          uid: { type: 'Tool', id: request.id },
          attrs: toolAttrs(name, request.server, request.annotations, this.settings.classification?.(request.server, name)),
          parents: [server],
        };
      }
      case 'prompt': {
        const name = request.id.startsWith(`${request.server}__`) ? request.id.slice(request.server.length + 2) : request.id;
        return { uid: { type: 'Prompt', id: request.id }, attrs: { name, server: request.server }, parents: [server] };
      }
      case 'resource':
        return { uid: { type: 'Resource', id: request.id }, attrs: { uri: request.id, server: request.server }, parents: [server] };
      case 'server':
        return { uid: server, attrs: {}, parents: [] };
    }
  }
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

class RequestContext implements ContextSource {
  #all: Record<string, CedarValueJson> | undefined;
  constructor(
    private readonly authorizer: CedarAuthorizer,
    private readonly request: AuthzRequest,
    private readonly argsUnknown: boolean,
  ) {}
  get(key: string): CedarValueJson | undefined {
    return this.authorizer.contextValue(key, this.request, this.argsUnknown);
  }
  all(): Record<string, CedarValueJson> {
    if (!this.#all) {
      const out: Record<string, CedarValueJson> = {};
      for (const key of CONTEXT_KEYS) {
        const value = this.get(key);
        if (value !== undefined) out[key] = value;
      }
      this.#all = out;
    }
    return this.#all;
  }
}

export const CONTEXT_KEYS = [
  'args',
  'method',
  'time',
  'sourceIp',
  'mfa',
  'scopes',
  'authorizationDetails',
  'client',
  'clientName',
  'actors',
  'approval',
] as const;

function safeAll(context: ContextSource): Record<string, CedarValueJson> {
  try {
    return context.all();
  } catch {
    return {};
  }
}

function resourceRef(request: AuthzRequest): EntityRef {
  switch (request.kind) {
    case 'tool':
      return { type: 'Tool', id: request.id };
    case 'prompt':
      return { type: 'Prompt', id: request.id };
    case 'resource':
      return { type: 'Resource', id: request.id };
    case 'server':
      return { type: 'Server', id: request.server };
  }
}

function methodOf(request: AuthzRequest): string {
  switch (request.action) {
    case 'call':
      return 'tools/call';
    case 'get':
      return 'prompts/get';
    case 'read':
      return 'resources/read';
    case 'list':
      return request.kind === 'prompt' ? 'prompts/list' : request.kind === 'resource' ? 'resources/list' : 'tools/list';
  }
}

/** `fe80::1%eth0` → `fe80::1`; `::ffff:10.0.0.1` → `10.0.0.1` (Cedar's ip() takes neither form). */
function stripZone(ip: string): string {
  const bare = ip.split('%')[0] as string;
  return bare.startsWith('::ffff:') && bare.includes('.') ? bare.slice(7) : bare;
}

export function toolAttrs(
  name: string,
  server: string,
  annotations: ToolAnnotations | undefined,
  classification: string | undefined,
): Record<string, CedarValueJson> {
  return {
    name,
    server,
    destructive: annotations?.destructiveHint === true,
    readOnly: annotations?.readOnlyHint === true,
    idempotent: annotations?.idempotentHint === true,
    openWorld: annotations?.openWorldHint === true,
    classification: classification ?? 'internal',
  };
}

/** Token-supplied JSON as a Cedar value: nulls, non-integers and `__`-prefixed keys dropped. */
function plainValue(value: unknown, depth: number): CedarValueJson | undefined {
  if (depth > 8) return undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (Array.isArray(value)) return value.map((v) => plainValue(v, depth + 1)).filter((v): v is CedarValueJson => v !== undefined);
  if (value && typeof value === 'object') {
    const out: Record<string, CedarValueJson> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('__')) continue;
      const converted = plainValue(v, depth + 1);
      if (converted !== undefined) out[k] = converted;
    }
    return out;
  }
  return undefined;
}
