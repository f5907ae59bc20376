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
  /<\/?\s{0,8}(?:important|system|instructions?|secret|hidden|admin|assistant|context|rules?)\b/i,
  /\[\s{0,8}(?:system|inst|admin)\s{0,8}\]/i,
  /[ \t]{120}|\n{12}/,
];

/** Direct address to the model: override its instructions or its role, or order steps around a tool. */
export const MODEL_DIRECTIVE: readonly RegExp[] = [
  /\b(?:ignore|disregard|forget|override)\s{1,8}(?:(?:all|any|the|your)\s{1,8})?(?:previous|prior|above|earlier|other|existing|system)\s{1,8}(?:instructions|rules|directions|prompts?|messages|guidelines)\b/i,
  /\b(?:system\s{1,8}prompt|developer\s{1,8}message|hidden\s{1,8}instructions?)\b/i,
  /\byou\s{1,8}are\s{1,8}now\b/i,
  /\b(?:assistant|model|ai|llm|agent)\s{0,8}[,:]\s{0,8}(?:you\s{1,8})?(?:must|should|need\s{1,8}to|have\s{1,8}to)\b/i,
  /\b(?:before|after)\s{1,8}(?:using|calling|invoking|running)\s{1,8}(?:this|any|the)\s{1,8}(?:tool|function)\W{0,3}(?:you\s{1,8})?(?:must|always|first|should|need\s{1,8}to)\b/i,
];

/** Asks the model to keep something from its user. */
export const CONCEAL_FROM_USER: readonly RegExp[] = [
  /\b(?:do\s{1,8}not|don't|never)\s{1,8}(?:tell|inform|mention|reveal|show|notify|alert|disclose)\s{1,8}(?:this\s{1,8}to\s{1,8})?(?:the\s{1,8})?user\b/i,
  /\bwithout\s{1,8}(?:telling|informing|asking|notifying|alerting)\s{1,8}(?:the\s{1,8})?user\b/i,
  /\b(?:secretly|covertly|silently\s{1,8}(?:send|upload|include|forward|copy))\b/i,
];

/** Files and stores that hold credentials: a description has no reason to send the model there. */
export const SENSITIVE_FILE: readonly RegExp[] = [
  /~\/\.ssh\b|\bid_(?:rsa|ed25519|ecdsa)\b|\/etc\/(?:passwd|shadow)\b/i,
  /\.aws\/credentials\b|\.git-credentials\b|\.netrc\b|\bmcp\.json\b|\.cursor\/|\bclaude_desktop_config\b/i,
];

/** A name in Gatehouse's qualified form (`server__tool`): an upstream has no business naming another server's tools. */
export const QUALIFIED_NAME = /(?<![A-Za-z0-9_-])[A-Za-z0-9][A-Za-z0-9-]{0,63}__[A-Za-z0-9]/;

/** URLs, each checked for data carried in its query (`?d={conversation}`, `$SECRET`, long payloads). */
export const URL_CANDIDATE = /\bhttps?:\/\/[^\s"'<>`)]{1,2048}/gi;
export const IDENTIFIER = /[A-Za-z0-9_-]{1,128}/g;
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
  if (HIDDEN_MARKUP.some((p) => p.test(text))) found.add('hidden_markup');
  if (MODEL_DIRECTIVE.some((p) => p.test(text))) found.add('model_directive');
  if (CONCEAL_FROM_USER.some((p) => p.test(text))) found.add('conceal_from_user');
  if (SENSITIVE_FILE.some((p) => p.test(text))) found.add('sensitive_file');
  if (QUALIFIED_NAME.test(text) || namesForeignTool(text, options.foreignTools)) found.add('tool_reference');
  if (hasDataUrl(text)) found.add('data_url');
  return ORDER.filter((id) => found.has(id));
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

function namesForeignTool(text: string, foreign: ReadonlySet<string> | undefined): boolean {
  if (!foreign || foreign.size === 0) return false;
  for (const match of text.matchAll(IDENTIFIER)) {
    // Only names that look like identifiers (a "_" or "-" in them): plain words such as "search"
    // are too common in prose to count as a reference.
    if (/[_-]/.test(match[0]) && foreign.has(match[0])) return true;
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
