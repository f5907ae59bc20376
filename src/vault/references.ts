/**
 * `vault:NAME` references in config values. The contract allows them in a server's `env` and
 * `headers` values (and in the PostgreSQL connector's admin password): a whole value
 * (`API_KEY: vault:stripe`) or a word in it (`Authorization: "Bearer vault:gh"`). A reference
 * starts the value or follows whitespace or "="; the name runs to the first character that
 * cannot be part of a vault name. Never in `args`: a process's argv is readable by every
 * local user through /proc/<pid>/cmdline.
 */
const REFERENCE = /(^|[\s=])vault:([A-Za-z0-9][A-Za-z0-9_.-]{0,127})/g;

export type ValuePart = { literal: string } | { secret: string };

export function splitVaultReferences(value: string): ValuePart[] {
  if (!value.includes('vault:')) return [{ literal: value }];
  const parts: ValuePart[] = [];
  let last = 0;
  for (const match of value.matchAll(REFERENCE)) {
    const start = (match.index as number) + (match[1] as string).length;
    if (start > last) parts.push({ literal: value.slice(last, start) });
    parts.push({ secret: match[2] as string });
    last = start + 'vault:'.length + (match[2] as string).length;
  }
  if (last < value.length) parts.push({ literal: value.slice(last) });
  return parts;
}

export function referencedSecrets(value: string): string[] {
  return splitVaultReferences(value).flatMap((p) => ('secret' in p ? [p.secret] : []));
}

/**
 * Resolves a value: literal parts through `literal` (the `${VAR}` interpolation), secret parts
 * through `secret`. A secret's text is inserted verbatim, never re-interpolated.
 */
export async function resolveVaultReferences(
  value: string,
  resolvers: { literal: (text: string) => string; secret: (name: string) => Promise<string> },
): Promise<string> {
  const parts = splitVaultReferences(value);
  let out = '';
  for (const part of parts) out += 'secret' in part ? await resolvers.secret(part.secret) : resolvers.literal(part.literal);
  return out;
}
