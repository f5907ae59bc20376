import { AuditKind, type AuditKindName, namedActor } from '../../audit/index.js';
import { UsageError } from '../../errors/index.js';
import { IdentityError } from '../../identity/errors.js';
import { revoke } from '../../identity/revoke.js';
import { UserDirectory } from '../../identity/users.js';
import { issuerKey } from '../../identity/federated-identity.js';
import type { FederatedLink, UserRecord } from '../../storage/index.js';
import { withAdmin } from '../admin.js';
import { defineCommand, ExitCode, readStdin, type CommandContext } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';

function directory(ctx: CommandContext<unknown>, storage: Admin['storage']): UserDirectory {
  const { lockout } = ctx.config().identity;
  return new UserDirectory(storage.users, { threshold: lockout.threshold, baseDelayMs: lockout.baseDelay, maxDelayMs: lockout.maxDelay });
}

async function passwordFromStdin(ctx: CommandContext<{ 'password-stdin'?: boolean }>): Promise<string> {
  if (!ctx.values['password-stdin']) throw new UsageError('--password-stdin is required: the password is read from stdin, never from the command line');
  // One trailing newline (from `echo` or a here-string) is not part of the password.
  const password = (await readStdin(ctx.io.stdin)).replace(/\r?\n$/, '');
  if (password === '') throw new UsageError('no password on stdin');
  return password;
}

/** IdentityErrors are refusals (exit 1) with a message, not crashes. */
async function refusing(ctx: CommandContext<unknown>, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof IdentityError) {
      ctx.err(`gatehouse: ${error.message}`);
      return ExitCode.Failed;
    }
    throw error;
  }
}

type Admin = Parameters<Parameters<typeof withAdmin>[1]>[0];

/** One change to the users store, as the admin, with its audit record: a refusal exits 1 with its message. */
function changeUsers(ctx: CommandContext<unknown>, change: (admin: Admin & { users: UserDirectory }) => Promise<void>): Promise<number> {
  return refusing(ctx, () =>
    withAdmin(ctx.config(), async (admin) => {
      await change({ ...admin, users: directory(ctx, admin.storage) });
      return ExitCode.Ok;
    }),
  );
}

function describe(user: UserRecord, links: readonly FederatedLink[] = []) {
  return {
    name: user.name,
    source: user.source,
    groups: user.groups,
    mfa: user.totpSecret !== null,
    disabled: user.disabledAt !== null,
    locked: user.lockedUntil !== null && user.lockedUntil > Date.now(),
    lastLoginAt: user.lastLoginAt === null ? null : new Date(user.lastLoginAt).toISOString(),
    createdAt: new Date(user.createdAt).toISOString(),
    /** Single sign-on identities that sign in as this user. */
    identities: links.map((l) => ({ issuer: l.issuer, subject: l.subject })),
  };
}

export const usersAddCommand = defineCommand(COMMAND_SPECS.usersAdd, async (ctx) => {
  const name = ctx.positionals[0] as string;
  const groups = (ctx.values.group ?? [])
    .flatMap((g) => g.split(','))
    .map((g) => g.trim())
    .filter(Boolean);
  const password = await passwordFromStdin(ctx);
  return changeUsers(ctx, async ({ users, audit, actor }) => {
    const user = await users.add(name, password, groups);
    await audit.append(AuditKind.UserAdded, { actor: namedActor(actor), user: { name, groups: user.groups } }, { durable: true });
    ctx.print(describe(user), `added user ${name}${user.groups.length ? ` (groups: ${user.groups.join(', ')})` : ''}`);
  });
});

export const usersListCommand = defineCommand(COMMAND_SPECS.usersList, async (ctx) => {
  return withAdmin(ctx.config(), async ({ storage }) => {
    const users = await Promise.all((await storage.users.list()).map(async (u) => describe(u, await storage.users.federatedLinks(u.name))));
    const lines = users.map(
      (u) =>
        `${u.name.padEnd(20)} ${u.source.padEnd(9)} mfa:${u.mfa ? 'yes' : 'no '} ${u.disabled ? 'DISABLED ' : ''}${u.locked ? 'LOCKED ' : ''}groups: ${u.groups.join(', ') || '-'}` +
        u.identities.map((i) => `\n${' '.repeat(21)}sso: ${i.issuer} ${i.subject}`).join(''),
    );
    ctx.print(users, users.length ? lines.join('\n') : 'no users');
    return ExitCode.Ok;
  });
});

export const usersDisableCommand = defineCommand(COMMAND_SPECS.usersDisable, async (ctx) => {
  const name = ctx.positionals[0] as string;
  return changeUsers(ctx, async ({ storage, audit, actor, maxTokenTtlMs, users }) => {
    await users.setDisabled(name, true);
    await audit.append(AuditKind.UserDisabled, { actor: namedActor(actor), user: { name }, reason: ctx.values.reason }, { durable: true });
    await revoke({ storage, audit, maxTokenTtlMs }, { kind: 'user', value: name, by: actor, reason: ctx.values.reason ?? 'user disabled' });
    ctx.print({ name, disabled: true }, `disabled ${name}; their tokens and sessions are revoked`);
  });
});

export const usersEnableCommand = defineCommand(COMMAND_SPECS.usersEnable, async (ctx) => {
  const name = ctx.positionals[0] as string;
  return changeUsers(ctx, async ({ users, audit, actor }) => {
    await users.setDisabled(name, false);
    await audit.append(AuditKind.UserEnabled, { actor: namedActor(actor), user: { name } }, { durable: true });
    ctx.print({ name, disabled: false }, `enabled ${name}`);
  });
});

export const usersResetMfaCommand = defineCommand(COMMAND_SPECS.usersResetMfa, async (ctx) => {
  const name = ctx.positionals[0] as string;
  return changeUsers(ctx, async ({ users, audit, actor }) => {
    await users.resetMfa(name);
    await audit.append(AuditKind.MfaReset, { actor: namedActor(actor), user: { name } }, { durable: true });
    ctx.print({ name, mfa: false }, `reset MFA for ${name}; they enroll again at next sign-in`);
  });
});

export const usersSetPasswordCommand = defineCommand(COMMAND_SPECS.usersSetPassword, async (ctx) => {
  const name = ctx.positionals[0] as string;
  const password = await passwordFromStdin(ctx);
  return changeUsers(ctx, async ({ users, audit, actor }) => {
    await users.setPassword(name, password);
    await audit.append(AuditKind.PasswordSet, { actor: namedActor(actor), user: { name } }, { durable: true });
    ctx.print({ name }, `password set for ${name}`);
  });
});

/** --issuer and --subject, both required (usage error otherwise). */
function identityOptions(ctx: CommandContext<{ issuer?: string; subject?: string }>): { issuer: string; subject: string } {
  const { issuer, subject } = ctx.values;
  if (!issuer) throw new UsageError('--issuer is required: the IdP issuer, as in its discovery document');
  if (!subject) throw new UsageError("--subject is required: the person's `sub` at that IdP");
  return { issuer, subject };
}

interface IdentityLink {
  name: string;
  issuer: string;
  subject: string;
}

/**
 * `users link|unlink NAME --issuer ISS --subject SUB`: the change, its audit record (when it
 * changed something) and its output, which both name the identity by its normalized issuer.
 */
function changeLink(
  ctx: CommandContext<{ issuer?: string; subject?: string }>,
  change: (users: UserDirectory, link: IdentityLink) => Promise<{ record: AuditKindName | undefined; json: Record<string, unknown>; text: string }>,
): Promise<number> {
  const name = ctx.positionals[0] as string;
  const { issuer, subject } = identityOptions(ctx);
  return changeUsers(ctx, async ({ users, audit, actor }) => {
    const outcome = await change(users, { name, issuer, subject });
    if (outcome.record)
      await audit.append(outcome.record, { actor: namedActor(actor), user: { name }, identity: { issuer: issuerKey(issuer), subject } }, { durable: true });
    ctx.print({ name, issuer: issuerKey(issuer), subject, ...outcome.json }, outcome.text);
  });
}

export const usersLinkCommand = defineCommand(COMMAND_SPECS.usersLink, (ctx) =>
  changeLink(ctx, async (users, { name, issuer, subject }) => {
    const upstream = ctx.config().identity.upstream;
    if (upstream && issuerKey(upstream.issuer) !== issuerKey(issuer))
      ctx.err(`gatehouse: warning: ${issuer} is not the configured single sign-on issuer (${upstream.issuer})`);
    const linked = (await users.linkFederated(name, issuer, subject)) === 'linked';
    return {
      record: linked ? AuditKind.IdentityLinked : undefined,
      json: { linked: true, changed: linked },
      text: linked ? `linked ${name} to ${subject} at ${issuerKey(issuer)}` : `${name} was already linked to ${subject} at ${issuerKey(issuer)}`,
    };
  }),
);

export const usersUnlinkCommand = defineCommand(COMMAND_SPECS.usersUnlink, (ctx) =>
  changeLink(ctx, async (users, { name, issuer, subject }) => {
    await users.unlinkFederated(name, issuer, subject);
    return { record: AuditKind.IdentityUnlinked, json: { linked: false }, text: `unlinked ${subject} at ${issuerKey(issuer)} from ${name}` };
  }),
);
