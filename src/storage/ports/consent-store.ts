/**
 * A user's decision to let a client act for them (MCP security best practices: per-user
 * consent per client, against the confused deputy). The "connected clients" page lists these.
 */
export interface ConsentRecord {
  sub: string;
  clientId: string;
  clientName: string;
  /** Host of the redirect URI the user saw when consenting; a different host asks again. */
  redirectHost: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number;
}

export interface ConsentStore {
  get(sub: string, clientId: string): Promise<ConsentRecord | undefined>;
  upsert(record: ConsentRecord): Promise<void>;
  touch(sub: string, clientId: string, now: number): Promise<void>;
  listForUser(sub: string): Promise<ConsentRecord[]>;
  delete(sub: string, clientId: string): Promise<boolean>;
  deleteForClient(clientId: string): Promise<number>;
  deleteForUser(sub: string): Promise<number>;
}
