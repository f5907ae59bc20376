import { Automaton } from '../../util/aho-corasick.js';
import { Engine } from './engine.js';
import { RULE_INVOCATIONS } from './secret-rules.js';

/**
 * The engine with only the secret-format detectors, for text that is not a message to the
 * agent: log lines and audit records. Held values are scrubbed there by the log room's own
 * automaton; personal data is not, on purpose — who did what to which record is what an audit
 * trail is for, and the audit log stays with the operator.
 */
let engine: Engine | undefined;

/**
 * Every literal some secret format starts from or contains (each rule's anchors, the JWT and
 * PEM markers). Nearly every log line and audit record has none of them; one automaton pass
 * says so for a fraction of the cost of a full engine scan. Undefined when a rule has no
 * anchor (then every text is scanned).
 */
let anchors: Automaton | null | undefined;

function mayHoldSecret(text: string): boolean {
  if (anchors === undefined) {
    const literals = RULE_INVOCATIONS.flatMap((r) => r.anchors.map((a) => a.anchor));
    anchors = RULE_INVOCATIONS.every((r) => r.anchors.length > 0) ? new Automaton([...new Set([...literals, 'eyJ', '-----BEGIN'])]) : null;
  }
  if (anchors === null) return true;
  let found = false;
  anchors.scan(text, 0, text.length, 0, () => {
    found = true;
  });
  return found;
}

/**
 * Where credentials of known formats are in `text`: sorted, non-overlapping [start, end)
 * spans. Text past the engine's scan cap is reported as one span to the end, so it is
 * replaced rather than written unscanned.
 */
export function secretFormatSpans(text: string): [number, number][] {
  if (!mayHoldSecret(text)) return [];
  engine ??= new Engine({ detectors: { held: false, secret: true, pii: false }, held: null });
  const result = engine.scan([text]);
  const spans: [number, number][] = [];
  for (const f of [...result.findings].sort((a, b) => a.start - b.start)) {
    const last = spans[spans.length - 1];
    if (last && f.start < last[1]) last[1] = Math.max(last[1], f.end);
    else spans.push([f.start, f.end]);
  }
  const cut = result.unscanned.find((u) => u.segment === 0);
  if (cut !== undefined) {
    let from = cut.from;
    while (spans.length > 0 && (spans[spans.length - 1] as [number, number])[1] > from) from = Math.min(from, (spans.pop() as [number, number])[0]);
    spans.push([from, text.length]);
  }
  return spans;
}
