import type { ToolPinRecord } from '../storage/ports/index.js';
import { lineDiff } from './line-diff.js';

/** What an operator reviews: the approved definition, the one awaiting review, and their line diff. */
export interface PinReview {
  approved: ToolPinRecord | undefined;
  pending: ToolPinRecord;
  diff: string[];
}

/**
 * The review of one tool's rows (newest first): the definition awaiting review — the newest
 * pending one, or the one `digest` names (full, or a prefix of 8+ hex digits) — against the
 * approved one. Undefined when nothing awaits review.
 */
export function pinReview(rows: readonly ToolPinRecord[], digest?: string): PinReview | undefined {
  const approved = rows.find((r) => r.state === 'approved');
  const pending = digest
    ? rows.find((r) => r.state === 'pending' && (r.digest === digest || (digest.length >= 8 && r.digest.startsWith(digest))))
    : rows.find((r) => r.state === 'pending');
  if (!pending) return undefined;
  return { approved, pending, diff: lineDiff(definitionLines(approved), definitionLines(pending)) };
}

export function parseDefinition(row: ToolPinRecord | undefined): Record<string, unknown> {
  if (!row) return {};
  try {
    return JSON.parse(row.definition) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * JSON.stringify already escapes C0 controls; C1 controls and invisible, bidi and tag
 * characters are written as `\u{…}` so the reviewer sees them (the point of the review).
 */
const HIDDEN_CHARS = /[\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u{e0000}-\u{e007f}]/gu;

export function revealHidden(text: string): string {
  return text.replace(HIDDEN_CHARS, (c) => `\\u{${(c.codePointAt(0) as number).toString(16)}}`);
}

function definitionLines(row: ToolPinRecord | undefined): string[] {
  if (!row) return [];
  return JSON.stringify(parseDefinition(row), null, 2).split('\n').map(revealHidden);
}
