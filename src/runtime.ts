/** Settings keys the gateway publishes for CLI processes sharing the data dir. */
export const RuntimeKeys = {
  publicUrl: 'runtime.public_url',
  issuer: 'tokens.issuer',
  audience: 'tokens.audience',
  maxTtlMs: 'tokens.max_ttl_ms',
  defaultTtlMs: 'tokens.default_ttl_ms',
  pid: 'runtime.pid',
  startedAt: 'runtime.started_at',
} as const;

/** The issuer and audience tokens are bound to. */
export function tokenIdentity(publicUrl: string): { issuer: string; audience: string } {
  return { issuer: publicUrl, audience: `${publicUrl}/mcp` };
}
