/** Which family of detector produced a finding. */
export type DetectorKind = 'held' | 'secret' | 'pii';

/**
 * One flagged range of one segment (a string leaf of a message). A match that spans several
 * consecutive segments is reported as one finding per participating piece; the pieces share
 * `match`, so a redactor can render them as one value (the same hash for every piece).
 *
 * Findings never carry the matched text: they are safe to log.
 */
export interface Finding {
  /** Placeholder type id, e.g. `vault`, `aws_access_key`, `email` (`[REDACTED:<type>]`). */
  type: string;
  detector: DetectorKind;
  /** Index into the segments passed to `scan`. */
  segment: number;
  /** UTF-16 offsets into the original segment string, end exclusive. */
  start: number;
  end: number;
  /** Identifies the logical match; equal for every piece of a match split across segments. */
  match: number;
  /** Held values only: the opaque id of the held value (never derived from the value). */
  ref?: string;
}

/** Part of a segment that was not scanned because a size cap was reached. */
export interface Unscanned {
  segment: number;
  /** Offset from which the segment was not scanned (0: not at all). */
  from: number;
}

export interface ScanResult {
  findings: Finding[];
  /**
   * True when some text was not scanned (per-segment or per-message cap). The caller must not
   * relay unscanned text as if it were clean: truncate it or deny the whole result.
   */
  capped: boolean;
  unscanned: Unscanned[];
}
