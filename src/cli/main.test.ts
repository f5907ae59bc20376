import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS } from './command-specs.js';
import { COMMANDS, findCommand } from './main.js';

describe('command registry', () => {
  it('loads, for every entry, the command its words name', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect(command?.name, entry.name).toBe(entry.name);
    }
  });

  it('registers every command of COMMAND_SPECS exactly once, and nothing else', () => {
    const registered = COMMANDS.map((entry) => entry.name);
    expect(new Set(registered).size).toBe(registered.length);
    expect([...registered].sort()).toEqual(
      Object.values(COMMAND_SPECS)
        .map((spec) => spec.name)
        .sort(),
    );
  });

  it('selects the longest matching words and leaves the rest as arguments', () => {
    expect(findCommand(['users', 'reset-mfa', 'alice'])).toMatchObject({ entry: { name: 'users reset-mfa' }, rest: ['alice'] });
    expect(findCommand(['import-mcp-config', '--json'])).toMatchObject({ entry: { name: 'import-mcp-config' }, rest: ['--json'] });
    expect(findCommand(['users'])).toBeUndefined();
    expect(findCommand(['users-add'])).toBeUndefined();
  });
});
