/** Where a user comes from: a built-in account, or the upstream identity provider (SSO). */
export type UserSource = 'local' | 'federated';

export interface UserRecord {
  /** The user's name; it is the `sub` of every token issued for them. */
  name: string;
  source: UserSource;
  groups: string[];
  /** PHC-format password hash (local accounts only). */
  passwordHash: string | null;
  /** Base32 TOTP secret once MFA is enrolled. */
  totpSecret: string | null;
  /** Last accepted TOTP time step: a code is never accepted twice (RFC 6238 §5.2). */
  totpLastStep: number | null;
  disabledAt: number | null;
  failedAttempts: number;
  lockedUntil: number | null;
  lastLoginAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** Identity-provider attributes (email, display name) for policy and display. */
  attributes: Record<string, string>;
}

export type NewUser = Pick<UserRecord, 'name' | 'source' | 'groups' | 'passwordHash'> & { attributes?: Record<string, string> };

export type UserPatch = Partial<
  Pick<UserRecord, 'groups' | 'passwordHash' | 'totpSecret' | 'totpLastStep' | 'disabledAt' | 'failedAttempts' | 'lockedUntil' | 'lastLoginAt' | 'attributes'>
>;

/** Lockout settings, as the atomic attempt reservation needs them. */
export interface AttemptPolicy {
  /** Attempts (reserved or failed) before the first lock. */
  threshold: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * The outcome of reserving one credential check. `reserved`: the check may run; the attempt is
 * already counted as a failure (and `lockedUntil` set when it reached the threshold), so
 * concurrent checks see it at once. Otherwise the account is locked until `lockedUntil`.
 */
export type AttemptReservation = { reserved: true; failedAttempts: number; lockedUntil: number | null } | { reserved: false; lockedUntil: number };

/** A federated identity: the IdP's (issuer, subject) pair, mapped to a local user name. */
export interface FederatedLink {
  issuer: string;
  subject: string;
  name: string;
  createdAt: number;
}

export interface UserStore {
  get(name: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  /** Inserts a user; false if the name is taken. */
  create(user: NewUser, now: number): Promise<boolean>;
  update(name: string, patch: UserPatch, now: number): Promise<boolean>;
  /** Names of disabled users (the revocation list keeps these in memory). */
  disabledNames(): Promise<string[]>;

  /**
   * Atomically (one statement, safe across processes sharing the database) counts one more
   * attempt unless the account is locked, and locks it when the count reaches the threshold.
   * Runs before the credential is verified. undefined: no such user.
   */
  reserveAttempt(name: string, policy: AttemptPolicy, now: number): Promise<AttemptReservation | undefined>;
  /**
   * Gives back a reservation whose check succeeded: one attempt less, and the lock it set (if
   * any, `lockedUntil`) lifted. Earlier failures stay counted until a completed sign-in.
   */
  releaseAttempt(name: string, lockedUntil: number | null, now: number): Promise<void>;
  /** Records a TOTP time step as used, only if it is later than the last one (RFC 6238 §5.2): false if not. */
  claimTotpStep(name: string, step: number, now: number): Promise<boolean>;
  /** Stores a TOTP secret (and its first used step) only if none is enrolled: false if one is. */
  enrollTotp(name: string, secret: string, step: number, now: number): Promise<boolean>;

  /** The local user an IdP subject is linked to. */
  findFederated(issuer: string, subject: string): Promise<FederatedLink | undefined>;
  /** The IdP subjects linked to a user. */
  federatedLinks(name: string): Promise<FederatedLink[]>;
  /** Creates a federated user and its link in one transaction; false if the name or the subject is taken. */
  createFederated(user: NewUser, issuer: string, subject: string, now: number): Promise<boolean>;
  /** Links an IdP subject to an existing user: 'linked', 'unchanged' (already so), 'taken' (linked to someone else), 'no_user'. */
  link(name: string, issuer: string, subject: string, now: number): Promise<'linked' | 'unchanged' | 'taken' | 'no_user'>;
  /** Removes a link; false if there was none. */
  unlink(name: string, issuer: string, subject: string): Promise<boolean>;
}
