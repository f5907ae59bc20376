import { describe, expect, it } from 'vitest';
import { isModernMethod } from './methods.js';

describe('isModernMethod', () => {
  it('serves discovery, tools, prompts, resources and completion', () => {
    for (const method of [
      'server/discover',
      'tools/list',
      'tools/call',
      'prompts/list',
      'prompts/get',
      'resources/list',
      'resources/templates/list',
      'resources/read',
      'completion/complete',
    ]) {
      expect(isModernMethod(method), method).toBe(true);
    }
  });
  it('does not serve what the revision removed, unknown methods, or non-strings', () => {
    for (const method of [
      'initialize',
      'ping',
      'logging/setLevel',
      'resources/subscribe',
      'resources/unsubscribe',
      'unknown/method',
      'tools/List',
      '',
      'constructor',
      '__proto__',
    ]) {
      expect(isModernMethod(method), method).toBe(false);
    }
    expect(isModernMethod(undefined)).toBe(false);
    expect(isModernMethod(['tools/list'])).toBe(false);
  });
});
