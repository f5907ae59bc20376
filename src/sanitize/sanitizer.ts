import { heldCredentials, useEncodedForms, useHeldSpans, useSecretFormats } from '../log/index.js';
import { secretFormatSpans } from './detect/format-spans.js';
import { heldTargets } from './detect/held-encodings.js';
import { heldValues, mirrorRegistrations } from './held.js';
import { heldSpanSource } from './log-held-spans.js';
import { OutputSanitizer } from './output-sanitizer.js';

/**
 * The process-wide sanitizer every exit point uses (HTTP transport, stdio bridge, front-door
 * errors, the pipeline's `sanitize` stage). The gateway configures it from `sanitize:` at
 * start; until then it runs with the secure defaults (every detector on, everything masked).
 */
export const sanitizer = new OutputSanitizer(heldValues);
mirrorRegistrations(heldCredentials, heldValues, () => sanitizer.prepareSoon());
// Logs and audit records scrub held values in the same encodings the exit point catches.
useEncodedForms(heldTargets);
// …and credentials of known formats that Gatehouse never held (secretlint's rules, one engine).
useSecretFormats(secretFormatSpans);
// …with the exit point's automaton of the held values, not a second one of their own.
export const logHeldSpans = heldSpanSource(heldValues);
useHeldSpans(logHeldSpans);
