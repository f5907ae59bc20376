/**
 * `actor.sub` / `target.tool` of an audit body, for the PostgreSQL audit query indexes: text
 * PostgreSQL can store (no NUL), else null. A body that is not JSON indexes nothing.
 */
export function auditIndexedFields(body: string): { sub: string | null; tool: string | null } {
  let parsed: { actor?: { sub?: unknown }; target?: { tool?: unknown } } | undefined;
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return { sub: null, tool: null };
  }
  const text = (value: unknown) => (typeof value === 'string' && !value.includes('\u0000') ? value : null);
  return { sub: text(parsed?.actor?.sub), tool: text(parsed?.target?.tool) };
}
