import type { ApprovalRecord } from '../storage/index.js';
import { argumentsJson, captureArguments, digest, MalformedArgumentsError, renderArguments, type ArgNode } from './exact-arguments.js';

/**
 * How far what people are shown can be trusted to be what the approval releases:
 * - `exact`: every key, type and character, checked against the arguments hash;
 * - `masked`: exact except held credentials, which are masked (approving needs an acknowledgement);
 * - `legacy`: a request filed before exact arguments were kept — a redacted, possibly
 *   shortened copy (approving needs an acknowledgement);
 * - `mismatch`: the stored arguments do not hash to what the approval binds (storage was
 *   edited or damaged): nobody can approve the request, only deny it.
 */
export type ArgumentsIntegrity = 'exact' | 'masked' | 'legacy' | 'mismatch';

/** What every surface that shows an approval request shows of its arguments. */
export interface ArgumentsView {
  /** The rendering (see `renderArguments`): full length, ASCII only. */
  text: string;
  /** Compact JSON for machine readers (masks as `[REDACTED:vault]` text); the hashed text when `exact`. */
  json: string;
  integrity: ArgumentsIntegrity;
  /** Something is hidden or unverifiable: approving needs an explicit acknowledgement. */
  hidden: boolean;
  /** Binds the exact arguments (the approval's `argsHash`). */
  argsHash: string;
  /** SHA-256 of `text`: names the rendering a person was shown (audit records carry it). */
  viewHash: string;
  characters: number;
  lines: number;
}

/** Notes shown with the arguments, one per integrity, in plain words. */
export const INTEGRITY_NOTE: Record<ArgumentsIntegrity, string> = {
  exact: 'These are the exact arguments the approval releases (checked against the arguments hash).',
  masked:
    'Some values are hidden: they contain a credential Gatehouse holds, shown as [REDACTED:vault]. Everything else is exact. Approving needs an explicit acknowledgement that you approve values you cannot see.',
  legacy:
    'This request was filed before Gatehouse kept exact arguments: what is shown is a redacted copy that may hide or shorten values. Approving needs an explicit acknowledgement that you approve values you cannot see.',
  mismatch:
    'The stored arguments do not match the arguments hash this approval binds: storage was changed or damaged. This request cannot be approved; deny it.',
};

/**
 * The part of an approval every machine-readable surface (webhook JSON, `approvals … --json`)
 * gives the same way: the arguments as `view` shows them, the hashes, why and by which policy,
 * and when it was asked and decided.
 */
export function approvalArgumentFields(a: ApprovalRecord, view: ArgumentsView): Record<string, unknown> {
  return {
    arguments: JSON.parse(view.json) as unknown,
    argumentsText: view.text,
    argumentsIntegrity: view.integrity,
    argumentsHidden: view.hidden,
    argsHash: a.argsHash,
    viewHash: view.viewHash,
    reason: a.reason,
    policy: a.policy,
    createdAt: new Date(a.createdAt).toISOString(),
    expiresAt: new Date(a.expiresAt).toISOString(),
    ...(a.decidedAt
      ? { decidedAt: new Date(a.decidedAt).toISOString(), decidedBy: a.decidedBy, decidedVia: a.decidedVia, note: a.note, anyClient: a.anyClient }
      : {}),
  };
}

const cache = new WeakMap<ApprovalRecord, ArgumentsView>();

/** The view of a record's arguments; every console page, CLI output, webhook and audit record is derived from it. */
export function argumentsView(record: ApprovalRecord): ArgumentsView {
  const cached = cache.get(record);
  if (cached) return cached;
  const view = build(record);
  cache.set(record, view);
  return view;
}

function build(record: ApprovalRecord): ArgumentsView {
  let node: ArgNode;
  let integrity: ArgumentsIntegrity;
  try {
    if (record.argsFormat === 'exact-v1') {
      node = record.args as ArgNode;
      const json = argumentsJson(node);
      integrity = record.argsMasked ? 'masked' : digest(json) === record.argsHash ? 'exact' : 'mismatch';
      return finish(renderArguments(node), json, integrity, record.argsHash);
    }
    // A redacted copy from before: shown through the same rendering, never as exact.
    node = captureArguments(record.args, () => []).node;
    integrity = 'legacy';
    return finish(renderArguments(node), argumentsJson(node), integrity, record.argsHash);
  } catch (error) {
    if (!(error instanceof MalformedArgumentsError) && !(error instanceof TypeError) && !(error instanceof SyntaxError)) throw error;
    return finish(`[stored arguments unreadable: ${error.message}]`, 'null', 'mismatch', record.argsHash);
  }
}

function finish(text: string, json: string, integrity: ArgumentsIntegrity, argsHash: string): ArgumentsView {
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return { text, json, integrity, hidden: integrity !== 'exact', argsHash, viewHash: digest(text), characters: text.length, lines };
}
