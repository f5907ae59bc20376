import { DpopError } from './dpop.js';
import { TokenError } from './errors.js';
import type { RevocationList } from './revocation-list.js';
import type { PrincipalCheck } from './verify-access-token.js';

/** The client id of tokens the operator mints with the CLI. */
const CLI_CLIENT = 'gatehouse-cli';

/**
 * Memory-only authorization server: sign-ins do not survive a restart, and neither do the access
 * tokens they produced (those carry a grant and this process's instance id); CLI-minted service
 * tokens are not sign-ins.
 */
export function sameInstanceRule(instanceId: string): PrincipalCheck {
  return (principal) => {
    if (principal.grantId !== undefined && principal.claims.gatehouse_instance !== instanceId) throw new TokenError('auth.token_revoked');
  };
}

/**
 * `oauth.dpop.required`: tokens from the authorization server must be sender-constrained
 * (operator-minted CLI tokens cannot be, and are the operator's responsibility).
 */
export function dpopRequiredRule(): PrincipalCheck {
  return (principal) => {
    if (principal.dpopJkt === undefined && principal.clientId !== CLI_CLIENT) throw new DpopError('auth.dpop_required');
  };
}

/**
 * Catch up with revocations other processes wrote (`poll` is one PRAGMA read when nothing
 * changed), then check.
 */
export function revocationRule(revocations: Pick<RevocationList, 'check'>, poll: () => Promise<void> | undefined): PrincipalCheck {
  return (principal) => {
    const pending = poll();
    if (pending) return pending.then(() => revocations.check(principal));
    revocations.check(principal);
  };
}

/** The checks every verified token goes through, in order, as configured. */
export function verifierRules(options: {
  instanceId: string | undefined;
  dpopRequired: boolean;
  revocations: Pick<RevocationList, 'check'>;
  poll: () => Promise<void> | undefined;
}): PrincipalCheck[] {
  return [
    ...(options.instanceId !== undefined ? [sameInstanceRule(options.instanceId)] : []),
    ...(options.dpopRequired ? [dpopRequiredRule()] : []),
    revocationRule(options.revocations, options.poll),
  ];
}
