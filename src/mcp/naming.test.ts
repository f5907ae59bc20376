import { describe, expect, it } from 'vitest';
import { Naming, qualify } from './naming.js';

describe('Naming', () => {
  it('leaves names alone for a single server in auto mode', () => {
    const n = new Naming([{ name: 'echo', prefix: 'echo' }], 'auto');
    expect(n.prefixed).toBe(false);
    expect(n.expose('echo', 'say')).toBe('say');
    expect(n.parse('say')).toEqual({ server: 'echo', name: 'say' });
  });

  it('prefixes with several servers and splits at the first separator', () => {
    const n = new Naming(
      [
        { name: 'fs', prefix: 'files' },
        { name: 'mem', prefix: 'mem' },
      ],
      'auto',
    );
    expect(n.expose('fs', 'read__file')).toBe('files__read__file');
    expect(n.parse('files__read__file')).toEqual({ server: 'fs', name: 'read__file' });
    expect(n.parse('fs__read')).toBeUndefined();
    expect(n.parse('nope')).toBeUndefined();
    expect(n.parse('mem__')).toBeUndefined();
  });

  it('always prefixes in mode always, even with one server', () => {
    const n = new Naming([{ name: 'echo', prefix: 'echo' }], 'always');
    expect(n.expose('echo', 'say')).toBe('echo__say');
    expect(n.parse('say')).toBeUndefined();
  });

  it('qualifies with the server name, not the prefix', () => {
    expect(qualify('fs', 'read')).toBe('fs__read');
  });
});
