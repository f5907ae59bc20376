import type { UserRecord, UserStore } from '../storage/index.js';
import { IdentityError } from './errors.js';
import { dummyHash, hashPassword, passwordProblem, verifyPassword } from './password.js';
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

interface Attempts {
  failedAttempts: number;
  lockedUntil: number | null;
}

/**
 * The built-in accounts: password and TOTP checks with lockout and exponential backoff, and
 * the records federated users get on first sign-in. Failures for names that do not exist are
 * tracked in memory the same way, so answers and timing do not reveal which names exist.
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

  /** Password step of a local sign-in. */
  async checkPassword(name: string, password: string): Promise<LoginResult> {
    const now = this.clock();
    const user = USER_NAME.test(name) ? await this.store.get(name) : undefined;
    const local = user?.source === 'local' && user.passwordHash !== null ? user : undefined;
    const attempts: Attempts = local ?? this.#phantoms.get(name) ?? { failedAttempts: 0, lockedUntil: null };
    if (attempts.lockedUntil !== null && attempts.lockedUntil > now) return { ok: false, reason: 'locked', retryAfterMs: attempts.lockedUntil - now };
    const valid = await verifyPassword(password, local?.passwordHash ?? (await dummyHash()));
    if (!valid || !local) return this.#fail(name, local, attempts, now);
    if (local.disabledAt !== null) return { ok: false, reason: 'disabled' };
    return { ok: true, user: local };
  }

  /** TOTP step. Failures count towards the same lockout as passwords. */
  async checkTotp(user: UserRecord, code: string): Promise<LoginResult> {
    const now = this.clock();
    const fresh = (await this.store.get(user.name)) ?? user;
    if (fresh.lockedUntil !== null && fresh.lockedUntil > now) return { ok: false, reason: 'locked', retryAfterMs: fresh.lockedUntil - now };
    if (fresh.disabledAt !== null) return { ok: false, reason: 'disabled' };
    const step = fresh.totpSecret ? verifyTotp(fresh.totpSecret, code.trim(), fresh.totpLastStep, now) : undefined;
    if (step === undefined) return this.#fail(fresh.name, fresh, fresh, now);
    await this.store.update(fresh.name, { totpLastStep: step }, now);
    return { ok: true, user: { ...fresh, totpLastStep: step } };
  }

  /** Confirms enrollment: the secret is stored only after the user proves their app has it. */
  async enrollTotp(user: UserRecord, secret: string, code: string): Promise<LoginResult> {
    const now = this.clock();
    const step = verifyTotp(secret, code.trim(), null, now);
    if (step === undefined) return this.#fail(user.name, user, user, now);
    await this.store.update(user.name, { totpSecret: secret, totpLastStep: step }, now);
    return { ok: true, user: { ...user, totpSecret: secret, totpLastStep: step } };
  }

  async recordLogin(name: string): Promise<void> {
    await this.store.update(name, { failedAttempts: 0, lockedUntil: null, lastLoginAt: this.clock() }, this.clock());
  }

  /** Creates or refreshes the record of a user who signed in through the upstream IdP. */
  async upsertFederated(name: string, groups: readonly string[], attributes: Record<string, string>): Promise<UserRecord | 'conflict'> {
    assertName(name);
    const now = this.clock();
    const existing = await this.store.get(name);
    // A local account of the same name is someone else: SSO must not sign in as them.
    if (existing && existing.source !== 'federated') return 'conflict';
    if (!existing) await this.store.create({ name, source: 'federated', groups: [...groups], passwordHash: null, attributes }, now);
    else await this.store.update(name, { groups: [...groups], attributes }, now);
    return (await this.store.get(name)) as UserRecord;
  }

  async #fail(name: string, user: UserRecord | undefined, attempts: Attempts, now: number): Promise<LoginFailure> {
    const failedAttempts = attempts.failedAttempts + 1;
    const over = failedAttempts - this.lockout.threshold;
    const lockedUntil = over >= 0 ? now + Math.min(this.lockout.maxDelayMs, this.lockout.baseDelayMs * 2 ** over) : null;
    if (user) await this.store.update(name, { failedAttempts, lockedUntil }, now);
    else {
      if (this.#phantoms.size >= 10_000) this.#phantoms.delete(this.#phantoms.keys().next().value as string);
      this.#phantoms.set(name, { failedAttempts, lockedUntil });
    }
    return lockedUntil !== null ? { ok: false, reason: 'locked', retryAfterMs: lockedUntil - now } : { ok: false, reason: 'invalid' };
  }

  async #require(name: string): Promise<UserRecord> {
    const user = await this.store.get(name);
    if (!user) throw new IdentityError('identity.unknown_user', `no user named "${name}"`);
    return user;
  }
}

function assertName(name: string): void {
  if (!USER_NAME.test(name)) throw new IdentityError('identity.invalid_name', `invalid user name "${name}": use letters, digits and . _ @ + - (at most 128, starting with a letter or digit)`);
}
