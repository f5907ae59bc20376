import { Engine } from './engine.js';

/**
 * The engine with only the secret-format detectors, for text that is not a message to the
 * agent: log lines and audit records. Held values are scrubbed there by the log room's own
 * automaton; personal data is not, on purpose — who did what to which record is what an audit
 * trail is for, and the audit log stays with the operator.
 */
let engine: Engine | undefined;

/**
 * Where credentials of known formats are in `text`: sorted, non-overlapping [start, end)
 * spans. Text past the engine's scan cap is reported as one span to the end, so it is
 * replaced rather than written unscanned.
 */
export function secretFormatSpans(text: string): [number, number][] {
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
