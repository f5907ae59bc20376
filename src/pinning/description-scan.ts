/**
 * Finds instruction-like content in text an upstream wrote for the model to read: tool,
 * parameter and prompt descriptions, and results of servers marked untrusted. It produces
 * evidence (finding ids for the audit log) and drives containment (quarantine, a neutral
 * description). It is not a boundary: a determined author can phrase an injection none of
 * these patterns know. Policy, approvals and the sanitizer do not rely on it.
 *
 * Every pattern runs on a bounded string and is linear-time (checked with recheck in
 * description-scan.test.ts): no nested or overlapping quantifiers, every repetition bounded.
 */

/** Finding ids: stable, part of audit records. */
export type ScanFinding =
  | 'invisible_characters'
  | 'hidden_markup'
  | 'model_directive'
  | 'conceal_from_user'
  | 'sensitive_file'
  | 'tool_reference'
  | 'data_url'
  | 'oversized';

/** Characters scanned per string; a longer string is flagged `oversized` (text past the window is unread). */
export const MAX_SCAN_CHARS = 16_384;
/** Strings collected from one schema at most, and how deep it is walked. */
const MAX_SCHEMA_STRINGS = 2_000;
const MAX_SCHEMA_DEPTH = 24;

/**
 * Zero-width and joiner characters, bidirectional controls (the "Trojan Source" set), word
 * joiner and invisible operators, the byte-order mark, soft hyphen, and Unicode tag characters
 * (U+E0000–U+E007F, used to smuggle ASCII that renders as nothing).
 */
export const INVISIBLE = /[\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u{E0000}-\u{E007F}]/u;

/** Markup that hides text from a person reading a rendered description, or fakes a privileged voice. */
export const HIDDEN_MARKUP: readonly RegExp[] = [
  /<!--|\u001b\[/,
  /<\/?\s{0,3}(?:important|system|instructions?|secret|hidden|admin|assistant|context|rules?)\b/i,
  /\[\s{0,3}(?:system|inst|admin)\s{0,3}\]/i,
];

/** Direct address to the model: override its instructions or its role, or order steps around a tool. */
export const MODEL_DIRECTIVE: readonly RegExp[] = [
  /\b(?:ignore|disregard|forget|override)\s{1,3}(?:(?:all|any|the|your)\s{1,3})?(?:previous|prior|above|earlier|other|existing|system)\s{1,3}(?:instructions|rules|directions|prompts?|messages|guidelines)\b/i,
  /\b(?:system\s{1,3}prompt|developer\s{1,3}message|hidden\s{1,3}instructions?)\b/i,
  /\byou\s{1,3}are\s{1,3}now\b/i,
  /(?<![A-Za-z])(?:assistant|model|ai|llm|agent)[,:] ?(?:you )?(?:must|should|need to|have to)\b/i,
  /\b(?:before|after)\s{1,3}(?:using|calling|invoking|running)\s{1,3}(?:this|any|the)\s{1,3}(?:tool|function)\W{0,3}(?:you\s{1,3})?(?:must|always|first|should|need\s{1,3}to)\b/i,
];

/** Asks the model to keep something from its user. */
export const CONCEAL_FROM_USER: readonly RegExp[] = [
  /\b(?:do\s{1,3}not|don't|never)\s{1,3}(?:tell|inform|mention|reveal|show|notify|alert|disclose)\s{1,3}(?:this\s{1,3}to\s{1,3})?(?:the\s{1,3})?user\b/i,
  /\bwithout\s{1,3}(?:telling|informing|asking|notifying|alerting)\s{1,3}(?:the\s{1,3})?user\b/i,
  /\b(?:secretly|covertly|silently\s{1,3}(?:send|upload|include|forward|copy))\b/i,
];

/** Files and stores that hold credentials: a description has no reason to send the model there. */
export const SENSITIVE_FILE: readonly RegExp[] = [
  /~\/\.ssh\b|\bid_(?:rsa|ed25519|ecdsa)\b|\/etc\/(?:passwd|shadow)\b/i,
  /\.aws\/credentials\b|\.git-credentials\b|\.netrc\b|\bmcp\.json\b|\.cursor\/|\bclaude_desktop_config\b/i,
];

/** URLs, each checked for data carried in its query (`?d={conversation}`, `$SECRET`, long payloads). */
export const URL_CANDIDATE = /\bhttps?:\/\/[^\s"'<>`)]+/gi;
/** Identifier-like words: tool names, qualified (`server__tool`) or not. */
export const IDENTIFIER = /[A-Za-z0-9_-]+/g;
/** A template, variable or angle-bracket placeholder in a query: data the model is told to fill in. */
export const DATA_URL_QUERY = /[{}<>$]|%7[BD]|%3[CE]|%24/i;

export interface ScanOptions {
  /** Tool names other servers offer: a description that names one is reaching across servers. */
  foreignTools?: ReadonlySet<string> | undefined;
}

/** Finding ids for one string (deduplicated, in a fixed order). */
export function scanText(input: string, options: ScanOptions = {}): ScanFinding[] {
  const found = new Set<ScanFinding>();
  if (input.length > MAX_SCAN_CHARS) found.add('oversized');
  const text = input.length > MAX_SCAN_CHARS ? input.slice(0, MAX_SCAN_CHARS) : input;
  if (INVISIBLE.test(text)) found.add('invisible_characters');
  if (HIDDEN_MARKUP.some((p) => p.test(text)) || blankRun(text)) found.add('hidden_markup');
  if (MODEL_DIRECTIVE.some((p) => p.test(text))) found.add('model_directive');
  if (CONCEAL_FROM_USER.some((p) => p.test(text))) found.add('conceal_from_user');
  if (SENSITIVE_FILE.some((p) => p.test(text))) found.add('sensitive_file');
  if (namesTool(text, options.foreignTools)) found.add('tool_reference');
  if (hasDataUrl(text)) found.add('data_url');
  return ORDER.filter((id) => found.has(id));
}

/**
 * A run of 120 spaces or tabs, or of 12 line breaks: text pushed out of sight of a person
 * reading the description (a loop rather than a pattern: one pass, no backtracking to reason about).
 */
function blankRun(text: string): boolean {
  let blanks = 0;
  let breaks = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    blanks = c === 32 || c === 9 ? blanks + 1 : 0;
    breaks = c === 10 ? breaks + 1 : c === 13 ? breaks : 0;
    if (blanks >= 120 || breaks >= 12) return true;
  }
  return false;
}

const ORDER: readonly ScanFinding[] = [
  'invisible_characters',
  'hidden_markup',
  'model_directive',
  'conceal_from_user',
  'sensitive_file',
  'tool_reference',
  'data_url',
  'oversized',
];

/**
 * A name in Gatehouse's qualified form (`server__tool`: an upstream has no business naming
 * another server's tools that way), or the name of a tool another server offers when it looks
 * like an identifier (a "_" or "-" in it: plain words such as "search" are too common in prose).
 */
function namesTool(text: string, foreign: ReadonlySet<string> | undefined): boolean {
  for (const match of text.matchAll(IDENTIFIER)) {
    const word = match[0];
    if (word.length > 256) continue;
    const at = word.indexOf('__');
    if (at > 0 && at + 2 < word.length && word[0] !== '_' && word[0] !== '-') return true;
    if (foreign && foreign.size > 0 && (word.includes('_') || word.includes('-')) && foreign.has(word)) return true;
  }
  return false;
}

/** A URL whose query carries a template, a variable or a long value: the shape of an exfiltration channel. */
function hasDataUrl(text: string): boolean {
  for (const match of text.matchAll(URL_CANDIDATE)) {
    const candidate = match[0];
    const q = candidate.indexOf('?');
    if (q < 0) continue;
    const query = candidate.slice(q + 1);
    if (DATA_URL_QUERY.test(query)) return true;
    for (const pair of query.split('&')) {
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value.length >= 64) return true;
    }
  }
  return false;
}

/** Every description and title inside a JSON schema (parameter descriptions), bounded in count and depth. */
export function schemaTexts(schema: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (out.length >= MAX_SCHEMA_STRINGS || depth > MAX_SCHEMA_DEPTH || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
      return;
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if ((key === 'description' || key === 'title') && typeof value === 'string') out.push(value);
      else if (key === 'enum' || key === 'examples' || key === 'default' || key === 'const') collectStrings(value, out);
      else walk(value, depth + 1);
    }
  };
  walk(schema, 0);
  return out;
}

/** Strings inside enum values and examples count too: the model reads them as well. */
function collectStrings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value.slice(0, 256)) if (typeof v === 'string' && out.length < MAX_SCHEMA_STRINGS) out.push(v);
}

/** The union of findings over several strings. */
export function scanAll(texts: Iterable<string | undefined>, options: ScanOptions = {}): ScanFinding[] {
  const found = new Set<ScanFinding>();
  for (const text of texts) if (text) for (const id of scanText(text, options)) found.add(id);
  return ORDER.filter((id) => found.has(id));
}
