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

export type UserPatch = Partial<Pick<UserRecord, 'groups' | 'passwordHash' | 'totpSecret' | 'totpLastStep' | 'disabledAt' | 'failedAttempts' | 'lockedUntil' | 'lastLoginAt' | 'attributes'>>;

export interface UserStore {
  get(name: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  /** Inserts a user; false if the name is taken. */
  create(user: NewUser, now: number): Promise<boolean>;
  update(name: string, patch: UserPatch, now: number): Promise<boolean>;
  /** Names of disabled users (the revocation list keeps these in memory). */
  disabledNames(): Promise<string[]>;
}
