import { describe, expect, it } from 'vitest';
import { HostAllowList, hostPatternProblem } from './host-allow-list.js';

describe('host allow-list', () => {
  const list = new HostAllowList(['api.example.com', '*.corp.example', '127.0.0.1', '[::1]', 'BÜCHER.example']);
  it.each([
    ['api.example.com', true],
    ['API.EXAMPLE.COM', true],
    ['api.example.com.', true],
    ['a.corp.example', true],
    ['a.b.corp.example', true],
    ['corp.example', false],
    ['evilcorp.example', false],
    ['api.example.com.evil.test', false],
    ['example.com', false],
    ['127.0.0.1', true],
    ['[::1]', true],
    ['xn--bcher-kva.example', true],
    ['127.0.0.2', false],
  ])('%s → %s', (host, expected) => {
    expect(list.has(host)).toBe(expected);
  });

  it('refuses patterns that are not host names', () => {
    for (const bad of ['', '*', '*.com', 'a.*.example', 'https://a.example', 'a.example:443', 'a.example/x', 'user@a.example', 'a b', '*.'])
      expect(hostPatternProblem(bad), bad).toBeDefined();
    expect(() => new HostAllowList(['https://x.example'])).toThrow(RangeError);
  });
});
