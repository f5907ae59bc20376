import type { AttemptPolicy, AttemptReservation, FederatedLink, UserRecord, UserStore } from '../storage/index.js';
import { IdentityError } from './errors.js';
import { federatedIdentityProblem, issuerKey } from './federated-identity.js';
import { dummyHash, hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from './password.js';
import { verifyTotp } from './totp.js';

/**
 * User names are token subjects and Cedar entity ids (`User::"<name>"`): printable, no quotes
 * or spaces, and short enough to log.
 */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;

export interface LockoutSettings {
  /** Consecutive failures before the first lock. */
  threshold: number;
  /** First lock length; each further failure doubles it… */
  baseDelayMs: number;
  /** …up to this. */
  maxDelayMs: number;
}

export type LoginFailure = { ok: false; reason: 'invalid' | 'locked' | 'disabled'; retryAfterMs?: number };
export type LoginResult = { ok: true; user: UserRecord } | LoginFailure;

export interface FederatedSignIn {
  /** The ID token's verified `iss` and `sub`: the identity. */
  issuer: string;
  subject: string;
  /** The IdP's name for the person (`usernameClaim`): the user name for a new account only. */
  username: string;
  groups: readonly string[];
  attributes: Record<string, string>;
}

export type FederatedSignInResult =
  | { ok: true; user: UserRecord; created: boolean }
  /** The name belongs to another account (`holder`: a local one, or another IdP subject's). */
  | { ok: false; reason: 'name_taken'; holder: 'local' | 'federated' };

export const MAX_USER_NAME_LENGTH = 128;
export const MAX_TOTP_CODE_LENGTH = 16;

function locked(lockedUntil: number, now: number): LoginFailure {
  return { ok: false, reason: 'locked', retryAfterMs: Math.max(0, lockedUntil - now) };
}

/** A reserved attempt that failed: it is counted already; locked if it was the one that reached the threshold. */
function failed(reservation: { lockedUntil: number | null }, now: number): LoginFailure {
  return reservation.lockedUntil !== null && reservation.lockedUntil > now ? locked(reservation.lockedUntil, now) : { ok: false, reason: 'invalid' };
}

interface Attempts {
  failedAttempts: number;
  lockedUntil: number | null;
}

/**
 * The built-in accounts: password and TOTP checks with lockout and exponential backoff, and
 * the records federated users get on first sign-in, keyed by the IdP's (issuer, subject).
 * Every credential check first reserves an attempt (counted before it is verified) and gives it
 * back only when it succeeds. Failures for names that do not exist are tracked in memory the
 * same way, so answers and timing do not reveal which names exist.
 */
export class UserDirectory {
  readonly #phantoms = new Map<string, Attempts>();

  constructor(
    private readonly store: UserStore,
    private readonly lockout: LockoutSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  get(name: string): Promise<UserRecord | undefined> {
    return this.store.get(name);
  }

  list(): Promise<UserRecord[]> {
    return this.store.list();
  }

  async add(name: string, password: string, groups: readonly string[]): Promise<UserRecord> {
    assertName(name);
    for (const group of groups) if (!GROUP_NAME.test(group)) throw new IdentityError('identity.invalid_name', `invalid group name "${group}"`);
    const problem = passwordProblem(password);
    if (problem) throw new IdentityError('identity.weak_password', problem);
    const created = await this.store.create({ name, source: 'local', groups: [...new Set(groups)], passwordHash: await hashPassword(password) }, this.clock());
    if (!created) throw new IdentityError('identity.user_exists', `user "${name}" already exists`);
    return (await this.store.get(name)) as UserRecord;
  }

  async setPassword(name: string, password: string): Promise<void> {
    const user = await this.#require(name);
    if (user.source !== 'local') throw new IdentityError('identity.not_local', `user "${name}" signs in through single sign-on and has no password here`);
    const problem = passwordProblem(password);
    if (problem) throw new IdentityError('identity.weak_password', problem);
    await this.store.update(name, { passwordHash: await hashPassword(password), failedAttempts: 0, lockedUntil: null }, this.clock());
  }

  async setDisabled(name: string, disabled: boolean): Promise<UserRecord> {
    await this.#require(name);
    await this.store.update(name, { disabledAt: disabled ? this.clock() : null }, this.clock());
    return (await this.store.get(name)) as UserRecord;
  }

  async resetMfa(name: string): Promise<void> {
    await this.#require(name);
    await this.store.update(name, { totpSecret: null, totpLastStep: null }, this.clock());
  }

  /**
   * Password step of a local sign-in. The attempt is reserved (counted, atomically in the
   * database) before the password is hashed, so concurrent guesses beyond the threshold are
   * refused without being checked, whichever process they reach.
   */
  async checkPassword(name: string, password: string): Promise<LoginResult> {
    const now = this.clock();
    // Inputs no account can have are refused before anything is hashed or counted.
    if (name.length > MAX_USER_NAME_LENGTH || password.length > MAX_PASSWORD_LENGTH) return { ok: false, reason: 'invalid' };
    const user = USER_NAME.test(name) ? await this.store.get(name) : undefined;
    const local = user?.source === 'local' && user.passwordHash !== null ? user : undefined;
    const reservation = (local ? await this.store.reserveAttempt(name, this.#policy(), now) : undefined) ?? this.#reservePhantom(name, now);
    if (!reservation.reserved) return locked(reservation.lockedUntil, now);
    const valid = await verifyPassword(password, local?.passwordHash ?? (await dummyHash()));
    if (!valid || !local) return failed(reservation, now);
    await this.store.releaseAttempt(name, reservation.lockedUntil, now);
    if (local.disabledAt !== null) return { ok: false, reason: 'disabled' };
    return { ok: true, user: local };
  }

  /** TOTP step. Reserved like passwords, counting towards the same lockout; a used code never counts again. */
  async checkTotp(user: UserRecord, code: string): Promise<LoginResult> {
    const now = this.clock();
    const reservation = await this.store.reserveAttempt(user.name, this.#policy(), now);
    if (!reservation) return { ok: false, reason: 'invalid' };
    if (!reservation.reserved) return locked(reservation.lockedUntil, now);
    const fresh = await this.store.get(user.name);
    if (!fresh) return { ok: false, reason: 'invalid' };
    if (fresh.disabledAt !== null) {
      await this.store.releaseAttempt(fresh.name, reservation.lockedUntil, now);
      return { ok: false, reason: 'disabled' };
    }
    const step = fresh.totpSecret && code.length <= MAX_TOTP_CODE_LENGTH ? verifyTotp(fresh.totpSecret, code.trim(), fresh.totpLastStep, now) : undefined;
    // RFC 6238 §5.2: the step is claimed with a compare-and-set, so two requests carrying the
    // same code cannot both pass, even at the same instant in two processes.
    if (step === undefined || !(await this.store.claimTotpStep(fresh.name, step, now))) return failed(reservation, now);
    await this.store.releaseAttempt(fresh.name, reservation.lockedUntil, now);
    return { ok: true, user: { ...fresh, totpLastStep: step } };
  }

  /** Confirms enrollment: the secret is stored only after the user proves their app has it, and only if none is enrolled yet. */
  async enrollTotp(user: UserRecord, secret: string, code: string): Promise<LoginResult> {
    const now = this.clock();
    const reservation = await this.store.reserveAttempt(user.name, this.#policy(), now);
    if (!reservation) return { ok: false, reason: 'invalid' };
    if (!reservation.reserved) return locked(reservation.lockedUntil, now);
    const step = code.length <= MAX_TOTP_CODE_LENGTH ? verifyTotp(secret, code.trim(), null, now) : undefined;
    if (step === undefined || !(await this.store.enrollTotp(user.name, secret, step, now))) return failed(reservation, now);
    await this.store.releaseAttempt(user.name, reservation.lockedUntil, now);
    return { ok: true, user: { ...user, totpSecret: secret, totpLastStep: step } };
  }

  /** A completed sign-in: every earlier failure is forgiven. */
  async recordLogin(name: string): Promise<void> {
    await this.store.update(name, { failedAttempts: 0, lockedUntil: null, lastLoginAt: this.clock() }, this.clock());
  }

  /**
   * Single sign-on: the user an IdP subject is. A subject seen before is its linked user, whatever
   * name the IdP sends today. A new subject gets a new federated user named by the IdP — only if
   * that name is free: a name held by a local account, or by another subject, is refused (linking
   * is the operator's `users link`). Federated users' groups and attributes follow the IdP at
   * every sign-in; a linked local account keeps its own.
   */
  async signInFederated(identity: FederatedSignIn): Promise<FederatedSignInResult> {
    const issuer = issuerKey(identity.issuer);
    const problem = federatedIdentityProblem(issuer, identity.subject);
    if (problem) throw new IdentityError('identity.invalid_link', problem);
    const now = this.clock();
    for (let attempt = 0; attempt < 2; attempt++) {
      const link = await this.store.findFederated(issuer, identity.subject);
      if (link) {
        const user = await this.store.get(link.name);
        if (!user) break;
        if (user.source !== 'federated') return { ok: true, user, created: false };
        await this.store.update(user.name, { groups: [...identity.groups], attributes: identity.attributes }, now);
        return { ok: true, user: (await this.store.get(user.name)) as UserRecord, created: false };
      }
      assertName(identity.username);
      const created = await this.store.createFederated(
        { name: identity.username, source: 'federated', groups: [...identity.groups], passwordHash: null, attributes: identity.attributes },
        issuer,
        identity.subject,
        now,
      );
      if (created) return { ok: true, user: (await this.store.get(identity.username)) as UserRecord, created: true };
      // Either the name is taken, or this subject's first sign-in raced another: look again once.
    }
    const holder = await this.store.get(identity.username);
    return { ok: false, reason: 'name_taken', holder: holder?.source ?? 'federated' };
  }

  /** Operator action: lets an IdP subject sign in as an existing user. */
  async linkFederated(name: string, issuer: string, subject: string): Promise<'linked' | 'unchanged'> {
    const key = issuerKey(issuer);
    const problem = federatedIdentityProblem(key, subject);
    if (problem) throw new IdentityError('identity.invalid_link', problem);
    const result = await this.store.link(name, key, subject, this.clock());
    if (result === 'no_user') throw new IdentityError('identity.unknown_user', `no user named "${name}"`);
    if (result === 'taken') {
      const other = await this.store.findFederated(key, subject);
      throw new IdentityError('identity.link_taken', `that identity is linked to user "${other?.name ?? '?'}"; unlink it there first`);
    }
    return result;
  }

  async unlinkFederated(name: string, issuer: string, subject: string): Promise<void> {
    await this.#require(name);
    if (!(await this.store.unlink(name, issuerKey(issuer), subject)))
      throw new IdentityError('identity.not_linked', `user "${name}" is not linked to that identity`);
  }

  federatedLinks(name: string): Promise<FederatedLink[]> {
    return this.store.federatedLinks(name);
  }

  #policy(): AttemptPolicy {
    return { threshold: this.lockout.threshold, baseDelayMs: this.lockout.baseDelayMs, maxDelayMs: this.lockout.maxDelayMs };
  }

  /** Names that do not exist are counted the same way, in memory, so answers do not reveal which exist. */
  #reservePhantom(name: string, now: number): AttemptReservation {
    const attempts = this.#phantoms.get(name) ?? { failedAttempts: 0, lockedUntil: null };
    if (attempts.lockedUntil !== null && attempts.lockedUntil > now) return { reserved: false, lockedUntil: attempts.lockedUntil };
    const failedAttempts = attempts.failedAttempts + 1;
    const over = failedAttempts - this.lockout.threshold;
    const lockedUntil = over >= 0 ? now + Math.min(this.lockout.maxDelayMs, this.lockout.baseDelayMs * 2 ** Math.min(over, 62)) : attempts.lockedUntil;
    this.#phantoms.delete(name);
    if (this.#phantoms.size >= 10_000) this.#phantoms.delete(this.#phantoms.keys().next().value as string);
    this.#phantoms.set(name.slice(0, MAX_USER_NAME_LENGTH), { failedAttempts, lockedUntil });
    return { reserved: true, failedAttempts, lockedUntil };
  }

  async #require(name: string): Promise<UserRecord> {
    const user = await this.store.get(name);
    if (!user) throw new IdentityError('identity.unknown_user', `no user named "${name}"`);
    return user;
  }
}

function assertName(name: string): void {
  if (!USER_NAME.test(name))
    throw new IdentityError(
      'identity.invalid_name',
      `invalid user name "${name}": use letters, digits and . _ @ + - (at most 128, starting with a letter or digit)`,
    );
}
