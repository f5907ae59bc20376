import { isConnectorServer, isHttpApiServer, isPostgresServer, isStdioServer, type LoadedConfig } from '../config/index.js';
import { referencedSecrets } from './references.js';

/** Keys whose values may hold `vault:NAME` references (never args, command, cwd or url). */
export const VAULT_KEYS = /^servers\.[^.]+\.(env|headers)\.|^servers\.[^.]+\.postgres\.admin\.password$/;

/** Every `vault:NAME` reference in the config, with where it is. */
export function vaultReferences(config: LoadedConfig): { path: string; name: string }[] {
  const out: { path: string; name: string }[] = [];
  for (const [server, entry] of Object.entries(config.servers)) {
    if (isHttpApiServer(entry) || isConnectorServer(entry)) continue;
    const values: [string, string][] = isPostgresServer(entry)
      ? [[`servers.${server}.postgres.admin.password`, entry.postgres.admin.password]]
      : isStdioServer(entry)
        ? Object.entries(entry.env).map(([k, v]) => [`servers.${server}.env.${k}`, v] as [string, string])
        : Object.entries(entry.headers).map(([k, v]) => [`servers.${server}.headers.${k}`, v] as [string, string]);
    for (const [where, value] of values) for (const name of referencedSecrets(value)) out.push({ path: where, name });
  }
  // The Redis counters' URL (the whole value is the reference).
  const redis = config.rateLimits.redis?.url;
  if (redis?.startsWith('vault:')) out.push({ path: 'rateLimits.redis.url', name: redis.slice('vault:'.length) });
  return out;
}
