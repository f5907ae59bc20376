import type { UserRecord } from '../storage/index.js';
import { ApprovalActionError, ApprovalRefusal } from './types.js';

export interface ApproverGroups {
  groups: string[];
  /** Where they came from: the users store, `approvals.directory`, or nowhere (no groups). */
  source: 'users' | 'directory' | 'none';
}

/**
 * The groups of a person deciding from the CLI (`--as NAME`). The users store wins: a local
 * account, or a federated user as of their last single sign-on. `approvals.directory` is the
 * fallback for names the store does not know (deployments without local accounts). A
 * disabled account is refused — the directory cannot revive it.
 */
export async function approverGroups(
  name: string,
  users: { get(name: string): Promise<UserRecord | undefined> },
  directory: Readonly<Record<string, readonly string[]>>,
): Promise<ApproverGroups> {
  const user = await users.get(name);
  if (user) {
    if (user.disabledAt !== null)
      throw new ApprovalActionError(ApprovalRefusal.UserDisabled, `The account "${name}" is disabled: it cannot decide approval requests.`);
    return { groups: [...user.groups], source: 'users' };
  }
  const listed = directory[name];
  return listed ? { groups: [...listed], source: 'directory' } : { groups: [], source: 'none' };
}
