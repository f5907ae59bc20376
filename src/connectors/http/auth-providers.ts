import type { AuditLog } from '../../audit/index.js';
import type { Logger } from '../../log/index.js';
import type { Vault } from '../../vault/index.js';
import type { HttpAuthConfig } from './auth-config.js';
import { noAuth, type HttpAuth } from './auth-port.js';

/** What a credential provider may use. Egress for token endpoints must go through `fetch`. */
export interface HttpAuthDeps {
  log: Logger;
  vault: Vault;
  audit: AuditLog;
  /** Guarded fetch (egress guard, pinned lookup, size and time limits) for token endpoints. */
  fetch: typeof globalThis.fetch;
  /** Gateway's public URL (the `/connections` page lives under it). */
  publicUrl: string;
  /** Config directory, for relative file paths. */
  baseDir: string;
}

/** The provider for one server's `http.auth` (absent: no credentials). */
export function createHttpAuth(server: string, config: HttpAuthConfig | undefined, _deps: HttpAuthDeps): HttpAuth {
  if (!config || config.type === 'none') return noAuth;
  throw new Error(`servers.${server}.http.auth: unsupported type ${(config as { type: string }).type}`);
}
