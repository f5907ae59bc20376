import type { AccessRule } from '../config/index.js';
import type { Authorizer, AuthzRequest, Decision } from './types.js';

/**
 * The foundation's default-deny allow list (`access:` in gatehouse.yaml): a request is allowed
 * when some rule names the user (or one of their groups) and the server, and — when the rule
 * lists tools — the tool. Everything else is denied with reason `not_allowed`.
 */
export class AccessListAuthorizer implements Authorizer {
  constructor(private readonly rules: readonly AccessRule[]) {}

  decide(request: AuthzRequest): Decision {
    const { principal } = request;
    for (let i = 0; i < this.rules.length; i++) {
      const allow = (this.rules[i] as AccessRule).allow;
      const who = allow.users.includes(principal.sub) || principal.groups.some((g) => allow.groups.includes(g));
      if (!who) continue;
      if (!allow.servers.includes('*') && !allow.servers.includes(request.server)) continue;
      if (request.kind === 'tool' && allow.tools && !allow.tools.includes(request.id)) continue;
      return { effect: 'allow', policy: `access[${i}]` };
    }
    return {
      effect: 'deny',
      reason: 'not_allowed',
      message: denyMessage(request),
    };
  }
}

/** Safe for the agent: names only what it asked for, nothing about rules or other users. */
export function denyMessage(request: AuthzRequest): string {
  switch (request.kind) {
    case 'tool':
      return `You are not allowed to call the tool "${request.id}".`;
    case 'prompt':
      return `You are not allowed to use the prompt "${request.id}".`;
    case 'resource':
      return `You are not allowed to read this resource.`;
    case 'server':
      return `You are not allowed to use the server "${request.server}".`;
  }
}
