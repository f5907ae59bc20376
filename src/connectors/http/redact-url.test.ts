import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.js';

describe('recorded URLs', () => {
  it('redacts credential query parameters (well-known names and the provider’s), any case, every occurrence', () => {
    const url = new URL('https://user:pw@api.example.com/v1/x?api_key=CANARY1&API_KEY=CANARY2&status=paid&token=CANARY3&myKey=CANARY4#frag');
    const recorded = redactUrl(url, ['mykey']);
    expect(recorded).not.toMatch(/CANARY|user|pw|frag/);
    expect(new URL(recorded).searchParams.get('status')).toBe('paid');
    expect(new URL(recorded).searchParams.getAll('api_key')).toEqual(['[REDACTED]']);
  });
});
