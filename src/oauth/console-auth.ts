import type { Context } from 'hono';
import { ConsoleAccessError, type ConsoleAuth, type ConsoleUser } from '../console/console-auth.js';
import { isMultiFactor, type ConditionalAccess } from '../identity/conditional-access.js';
import type { UserDirectory } from '../identity/users.js';
import { signInUrl, type SignedInSession } from './browser-session.js';
import type { NodeEnv } from './interactions.js';

export interface SessionConsoleAuthDeps {
  /** The browser's sign-in at the authorization server, if any. */
  session(c: Context<NodeEnv>): Promise<SignedInSession | undefined>;
  users: Pick<UserDirectory, 'get'>;
  /** `amr` values that count as a second factor. */
  mfaAmrValues: readonly string[];
  /** Conditional access: a group's allowed networks apply to the console as to `/mcp`. */
  access?: Pick<ConditionalAccess, 'checkNetwork'>;
  clientIp?(c: Context): string | undefined;
  /** Catches up with other processes' writes first (a `gatehouse revoke` or `users disable` from the CLI). */
  catchUp?(): Promise<void> | undefined;
}

/**
 * The console's sign-in is the authorization server's: the same browser session the
 * connected-clients page uses, no second login. The person is the session's account; their
 * groups are the users store's (local accounts, and federated users as of their last
 * single sign-on), read on every request so a change or a disabled account counts at once;
 * `mfaAt` is the time of the latest sign-in when it presented a second factor. A group's
 * allowed networks (conditional access) are checked on every request, as at `/mcp`.
 */
export function sessionConsoleAuth(deps: SessionConsoleAuthDeps): ConsoleAuth {
  return {
    async currentUser(c: Context): Promise<ConsoleUser | undefined> {
      const pending = deps.catchUp?.();
      if (pending) await pending;
      const session = await deps.session(c as Context<NodeEnv>);
      if (!session) return undefined;
      const user = await deps.users.get(session.sub);
      // A disabled (or vanished) account is nobody, whatever its browser still holds.
      if (!user || user.disabledAt !== null) return undefined;
      const network = deps.access?.checkNetwork(user.groups, deps.clientIp?.(c));
      if (network) throw new ConsoleAccessError(network.code, network.message);
      return {
        sub: user.name,
        groups: user.groups,
        mfaAt: isMultiFactor(session.amr, deps.mfaAmrValues) ? session.authTime : undefined,
        sessionId: session.id,
      };
    },
    loginUrl: (returnTo, options) => signInUrl(returnTo, options),
  };
}
