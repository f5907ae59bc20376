import { VaultError } from './errors.js';
import { MAX_SECRET_BYTES, validateSecretName } from './vault.js';

/**
 * Parses the secrets handed to `gatehouse start --secrets-stdin | --secrets-fd N`: either a
 * JSON object `{ "name": "value", ... }` or lines `name=value` (blank lines and `#` comments
 * ignored). Values are kept in memory only.
 */
export function parseSecretsInput(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const add = (name: string, value: unknown, where: string) => {
    validateSecretName(name);
    if (typeof value !== 'string' || value.length === 0)
      throw new VaultError('vault.invalid_value', `${where}: the value of "${name}" must be a non-empty string`);
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES)
      throw new VaultError('vault.invalid_value', `${where}: the value of "${name}" exceeds ${MAX_SECRET_BYTES} bytes`);
    if (out.has(name)) throw new VaultError('vault.invalid_value', `${where}: "${name}" is given twice`);
    out.set(name, value);
  };
  const trimmed = text.trim();
  if (trimmed === '') return out;
  if (trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch {
      // Never echo the input: it is full of secrets.
      throw new VaultError('vault.invalid_value', 'secrets input starts with "{" but is not valid JSON');
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      throw new VaultError('vault.invalid_value', 'secrets input must be a JSON object of name → value');
    for (const [name, value] of Object.entries(doc)) add(name, value, 'secrets input');
    return out;
  }
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new VaultError('vault.invalid_value', `secrets input line ${i + 1}: expected name=value`);
    add(line.slice(0, eq).trim(), line.slice(eq + 1), `secrets input line ${i + 1}`);
  });
  return out;
}
