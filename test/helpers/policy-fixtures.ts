import path from 'node:path';
import type { Principal } from '../../src/tokens/index.js';

/** The starter policy folder shipped in examples/. */
export const STARTER_POLICIES = path.resolve(import.meta.dirname, '../../examples/policies');

/** A verified principal as the token verifier would produce it. */
export function principal(sub: string, groups: string[] = [], claims: Record<string, unknown> = {}): Principal {
  return {
    sub,
    groups,
    clientId: 'agent-1',
    scopes: ['mcp'],
    jti: `jti-${sub}`,
    issuedAt: 0,
    expiresAt: Date.now() + 60_000,
    act: [],
    authorizationDetails: undefined,
    authTime: undefined,
    amr: [],
    grantId: undefined,
    dpopJkt: undefined,
    claims: { sub, ...claims },
  };
}
