import { describe, expect, it } from 'vitest';
import { parseSecretsInput } from './memory-secrets.js';
import { referencedSecrets, resolveVaultReferences, splitVaultReferences } from './references.js';

describe('parseSecretsInput', () => {
  it('reads a JSON object or name=value lines', () => {
    expect([...parseSecretsInput('{"pg-admin": "p@ss=word", "gh": "ghp_x"}')]).toEqual([
      ['pg-admin', 'p@ss=word'],
      ['gh', 'ghp_x'],
    ]);
    expect([...parseSecretsInput('# comment\npg-admin=p@ss=word\n\ngh=  spaced  \n')]).toEqual([
      ['pg-admin', 'p@ss=word'],
      ['gh', '  spaced  '],
    ]);
    expect(parseSecretsInput('').size).toBe(0);
  });

  it('refuses malformed input without echoing it', () => {
    expect(() => parseSecretsInput('{"a": ')).toThrow('secrets input starts with "{" but is not valid JSON');
    expect(() => parseSecretsInput('just-a-secret-value')).toThrow('secrets input line 1: expected name=value');
    expect(() => parseSecretsInput('a=1\na=2')).toThrow('secrets input line 2: "a" is given twice');
    expect(() => parseSecretsInput('{"a": 5}')).toThrow('secrets input: the value of "a" must be a non-empty string');
    expect(() => parseSecretsInput('bad name=x')).toThrow(/invalid vault name "bad name"/);
  });
});

describe('vault: references', () => {
  it('finds whole-value and word references, not look-alikes', () => {
    expect(referencedSecrets('vault:stripe')).toEqual(['stripe']);
    expect(referencedSecrets('Bearer vault:gh-token')).toEqual(['gh-token']);
    expect(referencedSecrets('token=vault:a.b_c')).toEqual(['a.b_c']);
    expect(referencedSecrets('https://vault:8200/x')).toEqual([]);
    expect(referencedSecrets('myvault:x')).toEqual([]);
    expect(splitVaultReferences('Basic vault:u and vault:p!')).toEqual([
      { literal: 'Basic ' },
      { secret: 'u' },
      { literal: ' and ' },
      { secret: 'p' },
      { literal: '!' },
    ]);
  });

  it('inserts secret text verbatim, interpolating only the literal parts', async () => {
    const out = await resolveVaultReferences('Bearer vault:gh ${X}', { literal: (t) => t.replace('${X}', 'x'), secret: async () => 'has ${X} inside' });
    expect(out).toBe('Bearer has ${X} inside x');
  });
});
