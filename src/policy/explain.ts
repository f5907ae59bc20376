import type { CedarEntity } from './cedar/types.js';
import type { CedarValueJson } from './cedar/wasm.js';
import type { Explanation } from './cedar-authorizer.js';
import type { Decision } from './types.js';

const ref = (e: { type: string; id: string }) => `${e.type}::${JSON.stringify(e.id)}`;

function entityLine(entity: CedarEntity | undefined): string {
  if (!entity) return '(none)';
  const parents = entity.parents.length > 0 ? ` in ${entity.parents.map(ref).join(', ')}` : '';
  const attrs = Object.keys(entity.attrs).length > 0 ? ` ${JSON.stringify(entity.attrs)}` : '';
  return `${ref(entity.uid)}${parents}${attrs}`;
}

/** One line for the decision; it always contains `allow` or `deny` (the contract for scripts). */
export function decisionLine(decision: Decision): string {
  switch (decision.effect) {
    case 'allow':
      return 'decision: allow';
    case 'deny':
      return 'decision: deny';
    case 'require_approval':
      return `decision: require_approval (${decision.level}): deny until ${decision.level === 'four-eyes' ? 'a second person approves' : 'the requesting person confirms'}, then allow once`;
  }
}

/** The human-readable explanation printed by `gatehouse policy explain`. */
export function formatExplanation(x: Explanation, notes: readonly string[] = []): string {
  const d = x.decision;
  const lines = [decisionLine(d)];
  if (d.effect !== 'allow') lines.push(`reason:   ${d.reason}`);
  if (d.effect === 'deny') lines.push(`message:  ${d.message}`);
  const source = (id: string | undefined) => {
    if (!id) return '';
    const p = x.applicable.find((a) => a.id === id);
    return p ? ` (${p.source})` : id === 'default-deny' ? ' (no policy permits this request)' : '';
  };
  lines.push(`policy:   ${d.policy ?? '(none)'}${source(d.policy)}`);
  if (x.result && x.result.reasons.length > 0) lines.push(`determining policies: ${x.result.reasons.map((id) => `${id}${source(id)}`).join(', ')}`);
  for (const e of x.result?.errors ?? []) lines.push(`error in ${e.policy}${source(e.policy)}: ${e.message}`);
  lines.push('request:');
  lines.push(`  principal: ${entityLine(x.request.principal)}`);
  lines.push(`  action:    ${ref(x.request.action)}`);
  lines.push(`  resource:  ${entityLine(x.request.resource)}`);
  lines.push(`  context:   ${JSON.stringify(x.request.context as Record<string, CedarValueJson>)}`);
  lines.push(`policies whose scope applies (${x.applicable.length}):`);
  for (const p of x.applicable)
    lines.push(
      `  ${p.effect.padEnd(6)} ${p.id} (${p.source})${p.conditional ? ' when/unless …' : ''}${p.annotations.approval ? ` @approval("${p.annotations.approval}")` : ''}`,
    );
  for (const note of notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
