import type { HeldSpanSource } from '../log/index.js';
import { Engine } from './detect/engine.js';
import { heldTargets } from './detect/held-encodings.js';
import type { HeldValues } from './detect/held-values.js';
import { normalizeValue } from './detect/text-view.js';

/** The redactor scrubs encoded forms from this length on; a set with a higher minimum misses some. */
const REDACTOR_ENCODED_MIN = 8;
const UNCAPPED = { perSegment: Number.MAX_SAFE_INTEGER, perMessage: Number.MAX_SAFE_INTEGER };

/**
 * Held values in log lines and audit records, found with the automaton the exit point builds
 * for the same held set. The detection engine shares one automaton among engines over the same
 * held set: engines with the secret detectors on share theirs, and an engine with them off uses
 * that one when it exists. So `planner`, set like the exit point's engine, builds (or finds)
 * the shared automaton first, and `scanner`, with only the held detector on, scans with it:
 * no automaton of its own, and no secret-format rules run twice (logs get those from
 * `secretFormatSpans`, which skips most lines with a cheaper pre-check).
 */
export function heldSpanSource(held: HeldValues): HeldSpanSource & { secretRules(on: boolean): void } {
  let planner: Engine | undefined;
  let scanner: Engine | undefined;
  let secret = true;
  return {
    /** Follows the exit point's secret-detector setting, so both find the same automaton. */
    secretRules(on) {
      if (on !== secret) planner = undefined;
      secret = on;
    },
    hold(value) {
      // Only a value the set already holds, in a form its automaton finds as the redactor
      // would: unnormalized values (invisible or compatibility characters) and values below the
      // set's minimum length stay with the redactor's own matching.
      if (!held.has(value) || value.length < held.minLength || held.minLength > REDACTOR_ENCODED_MIN || normalizeValue(value) !== value) return 0;
      let longest = 0;
      for (const t of heldTargets(value)) if (t.text.length >= held.minLength) longest = Math.max(longest, t.text.length);
      held.add(value);
      return longest;
    },
    release(value) {
      held.remove(value);
    },
    spans(text) {
      planner ??= new Engine({ held, detectors: { held: true, secret, pii: false }, maxScanChars: UNCAPPED });
      scanner ??= new Engine({ held, detectors: { held: true, secret: false, pii: false }, maxScanChars: UNCAPPED });
      // Cheap when the held set has not changed since the last call (a version comparison).
      planner.prepare();
      const spans: [number, number][] = [];
      for (const f of scanner.scan([text]).findings) {
        const last = spans[spans.length - 1];
        if (last !== undefined && f.start < last[1]) last[1] = Math.max(last[1], f.end);
        else spans.push([f.start, f.end]);
      }
      return spans;
    },
  };
}
