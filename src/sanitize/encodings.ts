/**
 * The forms a credential commonly takes in text a server sends back: as it is, JSON-escaped
 * (once, and twice for JSON inside a JSON string), URL-encoded, hex, and base64/base64url — the
 * latter also when the value sits at any byte offset inside a longer encoded blob (a Basic
 * `user:password` header, say), which only the middle of its encoding reveals.
 */

/** Shorter encoded fragments would collide with ordinary data too often to redact. */
const MIN_FRAGMENT = 8;
/** Values longer than this get only their plain, escaped and whole-value encodings (matcher size). */
const LONG_VALUE = 1024;

function escaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/**
 * The base64 characters that depend only on `bytes` when they are preceded by `offset` bytes
 * (0–2) of anything and followed by anything: every encoding of a stream holding `bytes` at a
 * position ≡ offset (mod 3) contains them.
 */
function base64Core(bytes: Buffer, offset: number, url: boolean): string {
  const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
  const encoded = padded.toString(url ? 'base64url' : 'base64');
  const first = Math.ceil((offset * 8) / 6);
  const last = Math.floor(((offset + bytes.length) * 8) / 6);
  return encoded.slice(first, last);
}

export function encodedForms(value: string, options: { aligned?: boolean } = {}): string[] {
  const forms = new Set<string>([value]);
  const once = escaped(value);
  forms.add(once);
  forms.add(escaped(once));
  // Encoders that keep JSON ASCII-only (Python's json.dumps by default) escape the rest as \uXXXX.
  forms.add(once.replace(/[^\x00-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  let url = value;
  try {
    url = encodeURIComponent(value);
  } catch {
    // A lone surrogate has no URL encoding; the other forms still apply.
  }
  forms.add(url);
  forms.add(url.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  if (value.includes(' ')) forms.add(url.replace(/%20/g, '+'));
  const bytes = Buffer.from(value, 'utf8');
  const add = (form: string) => {
    if (form.length >= MIN_FRAGMENT) forms.add(form);
  };
  add(bytes.toString('base64'));
  add(bytes.toString('base64url'));
  if (value.length <= LONG_VALUE) {
    add(bytes.toString('hex'));
    add(bytes.toString('hex').toUpperCase());
    if (options.aligned !== false) {
      for (const offset of [0, 1, 2]) {
        add(base64Core(bytes, offset, false));
        add(base64Core(bytes, offset, true));
      }
    }
  }
  return [...forms];
}
