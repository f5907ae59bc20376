import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/index.js';
import { registrationOpen } from './registration-mode.js';

describe('registrationOpen', () => {
  it('follows oauth.registration when set, else dynamicRegistration', () => {
    expect(registrationOpen({ dynamicRegistration: true })).toBe(true);
    expect(registrationOpen({ dynamicRegistration: false })).toBe(false);
    expect(registrationOpen({ dynamicRegistration: true, registration: 'off' })).toBe(false);
    expect(registrationOpen({ dynamicRegistration: false, registration: 'open' })).toBe(true);
  });
  it('accepts only open or off in the config, naming the key', () => {
    expect(validateConfig({ oauth: { registration: 'off' } }, 'test', '/tmp/gh').oauth.registration).toBe('off');
    expect(() => validateConfig({ oauth: { registration: 'closed' } }, 'test', '/tmp/gh')).toThrow(/oauth\.registration/);
  });
});
