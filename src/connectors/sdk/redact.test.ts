import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from './redact.js';

describe('Redactor', () => {
  it('replaces every occurrence of a registered value, in text, keys and nested values', () => {
    const r = new Redactor();
    r.add('Bearer s3cr3t-token-value-123');
    expect(r.redactText('a s3cr3t-token-value-123 b s3cr3t-token-value-123')).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(r.redact({ 'k-s3cr3t-token-value-123': ['x Bearer s3cr3t-token-value-123'] })).toEqual({ [`k-${REDACTED}`]: [`x ${REDACTED}`] });
  });

  it('ignores values too short to be a credential (they would redact ordinary words)', () => {
    const r = new Redactor();
    r.add('abc');
    expect(r.redactText('abc abc')).toBe('abc abc');
  });
});
