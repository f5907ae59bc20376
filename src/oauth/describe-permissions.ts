import { isToolCallDetail, type ArgumentConstraint } from '../tokens/index.js';

function constraintText(name: string, c: ArgumentConstraint): string {
  const parts: string[] = [];
  if (c.const !== undefined) parts.push(`${name} = ${JSON.stringify(c.const)}`);
  if (c.enum !== undefined) parts.push(`${name} one of ${c.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (c.prefix !== undefined) parts.push(`${name} starting with ${JSON.stringify(c.prefix)}`);
  if (c.minimum !== undefined) parts.push(`${name} ≥ ${c.minimum}`);
  if (c.maximum !== undefined) parts.push(`${name} ≤ ${c.maximum}`);
  if (c.maxLength !== undefined) parts.push(`${name} at most ${c.maxLength} characters`);
  return parts.join(' and ');
}

/** Plain-language lines for the consent page: what each requested scope and detail allows. */
export function describePermissions(scopes: readonly string[], details: readonly unknown[] | undefined): string[] {
  const lines: string[] = [];
  const narrowed = scopes.some((s) => s.startsWith('server:') || s.startsWith('tool:'));
  for (const scope of scopes) {
    if (scope === 'mcp')
      lines.push(narrowed ? 'Use Gatehouse, limited to what is listed below' : 'Use every MCP tool, prompt and resource Gatehouse policy allows you');
    else if (scope.startsWith('server:')) lines.push(`Use the tools, prompts and resources of server “${scope.slice(7)}”`);
    else if (scope.startsWith('tool:')) lines.push(`Use the tool “${scope.slice(5)}”`);
    else if (scope === 'openid') lines.push('Know your user name');
    else if (scope === 'offline_access') lines.push('Stay connected until you revoke it or your sign-in ends');
  }
  for (const detail of details ?? []) {
    if (!isToolCallDetail(detail)) continue;
    const bounds = Object.entries(detail.arguments ?? {}).map(([name, c]) => constraintText(name, c));
    lines.push(`Only call “${detail.server}__${detail.tool}”${bounds.length ? ` with ${bounds.join('; ')}` : ''}`);
  }
  return lines;
}
