import { looksSecret } from '../audit/index.js';
import type { Config } from '../config/index.js';
import { isConnectorServer, isHttpApiServer, isPostgresServer, isStdioServer } from '../config/index.js';
import { referencedSecrets } from './references.js';

/** Keys whose values are credentials whatever they look like. */
const CREDENTIAL_KEY = /pass(word|wd|phrase)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credential|auth|cookie|dsn|conn(ection)?[-_]?str/i;
/** Command-line flags that take a credential (`--password x`, `--token=x`). */
const CREDENTIAL_FLAG = /^--?(pass(word)?|token|secret|api[-_]?key|access[-_]?key|auth)(=(.+))?$/i;
const URL_WITH_PASSWORD = /(?<![a-z0-9+.-])[a-z0-9+.-]+:\/\/[^/\s:@]+:[^/\s@]+@/i;

export interface InlineSecretFinding {
  /** Key path in the config, e.g. `servers.github.env.GITHUB_TOKEN`. */
  path: string;
  reason: string;
}

function isIndirect(value: string): boolean {
  return value.includes('${') || referencedSecrets(value).length > 0;
}

/**
 * Heuristics for a credential written directly into the config (the most
 * common unsafe setup: a connection string with a password in an MCP server's args). Findings name the
 * key path and why, never the value. `onValue` receives each suspected literal so the caller
 * can register it with the log redactor.
 */
export function findInlineSecrets(config: Pick<Config, 'servers'>, onValue?: (value: string) => void): InlineSecretFinding[] {
  const findings: InlineSecretFinding[] = [];
  const flag = (path: string, reason: string, value: string) => {
    findings.push({ path, reason });
    onValue?.(value);
  };
  const checkValue = (path: string, key: string | undefined, value: string) => {
    if (value === '' || isIndirect(value)) return;
    if (URL_WITH_PASSWORD.test(value)) return flag(path, 'a URL with a password', value);
    if (looksSecret(value)) return flag(path, 'a value shaped like a credential', value);
    if (key !== undefined && CREDENTIAL_KEY.test(key) && value.length >= 6 && !/^(true|false|yes|no|on|off|\d+)$/i.test(value)) {
      return flag(path, `a literal value for the credential-named key "${key}"`, value);
    }
  };
  for (const [name, server] of Object.entries(config.servers)) {
    const base = `servers.${name}`;
    // HTTP API credentials are configured under http.auth, by vault reference only.
    if (isHttpApiServer(server) || isConnectorServer(server)) continue;
    if (isPostgresServer(server)) {
      const password = server.postgres.admin.password;
      if (!isIndirect(password)) flag(`${base}.postgres.admin.password`, 'a literal database password (use vault:NAME)', password);
      continue;
    }
    if (isStdioServer(server)) {
      for (const [key, value] of Object.entries(server.env)) checkValue(`${base}.env.${key}`, key, value);
      server.args.forEach((arg, i) => {
        const path = `${base}.args[${i}]`;
        const flagMatch = CREDENTIAL_FLAG.exec(arg);
        if (flagMatch?.[4] && !isIndirect(flagMatch[4])) {
          flag(path, `a credential passed on the command line (${flagMatch[1]}); args are visible to every local user`, flagMatch[4]);
          return;
        }
        if (flagMatch && !flagMatch[4]) {
          const next = server.args[i + 1];
          if (next !== undefined && !isIndirect(next))
            flag(`${base}.args[${i + 1}]`, `a credential passed on the command line (after ${arg}); args are visible to every local user`, next);
          return;
        }
        if (i > 0 && CREDENTIAL_FLAG.test(server.args[i - 1] ?? '')) return;
        checkValue(path, undefined, arg);
      });
      continue;
    }
    checkValue(`${base}.url`, undefined, server.url);
    try {
      const url = new URL(server.url);
      for (const [key, value] of url.searchParams)
        if (CREDENTIAL_KEY.test(key) && value) flag(`${base}.url`, `a credential in the URL's query ("${key}")`, value);
    } catch {
      // The schema already validated the URL.
    }
    for (const [key, value] of Object.entries(server.headers)) {
      if (/^(authorization|proxy-authorization)$/i.test(key)) {
        const credential = value.replace(/^\s*(Bearer|Basic|Token|DPoP)\s+/i, '');
        if (credential && !isIndirect(value)) flag(`${base}.headers.${key}`, 'a literal Authorization credential (use vault:NAME)', credential);
        continue;
      }
      checkValue(`${base}.headers.${key}`, key, value);
    }
  }
  return findings;
}
