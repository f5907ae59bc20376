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
 * for the same held set: the detection engine shares one automaton among engines over the
 * same held set and secret setting, so an engine here with the exit point's default settings
 * (held and secret detectors on) adds no automaton of its own. Secret-format findings of the
 * same scan are dropped: logs get those from `secretFormatSpans`, which skips most lines with a
 * cheaper pre-check.
 */
export function heldSpanSource(held: HeldValues): HeldSpanSource & { secretRules(on: boolean): void } {
  let engine: Engine | undefined;
  let secret = true;
  return {
    /** Follows the exit point's secret-detector setting, so both engines share one automaton. */
    secretRules(on) {
      if (on !== secret) engine = undefined;
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
      engine ??= new Engine({ held, detectors: { held: true, secret, pii: false }, maxScanChars: UNCAPPED });
      const spans: [number, number][] = [];
      for (const f of engine.scan([text]).findings) {
        if (f.detector !== 'held') continue;
        const last = spans[spans.length - 1];
        if (last !== undefined && f.start < last[1]) last[1] = Math.max(last[1], f.end);
        else spans.push([f.start, f.end]);
      }
      return spans;
    },
  };
}
