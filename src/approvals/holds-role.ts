import type { PeopleList } from './types.js';

/** True when `sub` is listed by name, or one of `groups` is. */
export function isListed(people: PeopleList | undefined, sub: string, groups: readonly string[]): boolean {
  if (!people) return false;
  return people.users.includes(sub) || groups.some((g) => people.groups.includes(g));
}

/** The approver role for `server`: listed under the server's name or under `*`. */
export function holdsApproverRole(approvers: Readonly<Record<string, PeopleList>>, server: string, sub: string, groups: readonly string[]): boolean {
  return isListed(approvers[server], sub, groups) || isListed(approvers['*'], sub, groups);
}
