import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector } from '../../../test/helpers/fake-connector.js';
import { Harness } from '../../../test/helpers/gateway-harness.js';

/**
 * A call is always described in the audit log, whatever its arguments: arguments that cannot
 * be recorded exactly (nested past canonical JSON's depth, numbers JSON cannot hold) are
 * refused with -32602 `mcp.invalid_arguments`, nothing is forwarded, and the refusal itself
 * is recorded as call.denied.
 */
describe('audit stages on arguments that have no canonical form', () => {
  let h: Harness;
  let echo: FakeConnector;
  let token: string;
  let sid: string;
  let nextId = 100;

  beforeEach(async () => {
    echo = new FakeConnector('echo', [{ name: 'say' }]);
    h = await Harness.create(
      { servers: { echo: { command: 'unused' } }, access: [{ allow: { users: ['alice'], servers: ['echo'] } }], rateLimits: { enabled: false } },
      [echo],
    );
    token = await h.token('alice');
    sid = await h.open(token);
  });
  afterEach(async () => {
    await h.close();
  });

  const nested = (depth: number, leaf = '1') => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;

  /** Sends a JSON-RPC request whose text is written out (a JSON.stringify could not say 1e400). */
  async function raw(
    method: string,
    paramsText: string,
  ): Promise<{ error?: { code: number; message: string; data?: Record<string, unknown> }; result?: unknown }> {
    const res = await h.request(
      'POST',
      {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
      undefined,
      `{"jsonrpc":"2.0","id":${nextId++},"method":"${method}","params":${paramsText}}`,
    );
    const text = await res.text();
    const line = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .pop();
    return JSON.parse(line ? line.slice(6) : text) as { error?: { code: number; message: string; data?: Record<string, unknown> }; result?: unknown };
  }

  const records = async (kind: string) => {
    await h.assembly.audit.flush();
    return (await h.assembly.storage.audit.query({ kinds: [kind], limit: 1000 })).map((r) => JSON.parse(r.body) as Record<string, any>);
  };

  const cases: [string, string, string][] = [
    ['nested 100 levels', `{"text":"hi","deep":${nested(100)}}`, 'too_deep'],
    ['nested 50 000 levels', `{"deep":${nested(50_000)}}`, 'too_deep'],
    ['1e400', '{"n":1e400}', 'non_finite_number'],
    ['-1e400 deep inside', `{"a":[{"b":[-1e400]}]}`, 'non_finite_number'],
    ['1e400 past the depth limit', `{"deep":${nested(90, '1e400')}}`, 'too_deep'],
  ];

  for (const [name, args, problem] of cases) {
    it(`refuses and records arguments ${name}`, async () => {
      const answer = await raw('tools/call', `{"name":"say","arguments":${args}}`);
      expect(answer.error).toMatchObject({ code: -32602, data: { code: 'mcp.invalid_arguments', reason: 'invalid_arguments', problem } });
      expect(answer.error?.message).toMatch(problem === 'too_deep' ? /nested more than 64 levels/ : /number JSON cannot represent/);
      expect(echo.calls).toHaveLength(0);
      expect(await records('call.intent')).toHaveLength(0);
      const [denied, ...more] = await records('call.denied');
      expect(more).toHaveLength(0);
      expect(denied).toMatchObject({
        actor: { sub: 'alice' },
        method: 'tools/call',
        target: { server: 'echo', tool: 'echo__say' },
        decision: { effect: 'deny', reason: 'invalid_arguments' },
        outcome: { status: 'denied', code: 'mcp.invalid_arguments' },
      });
      expect(denied?.argsHash).toMatch(/^sha256:/);
      expect(denied?.args).toBeDefined();
    });
  }

  it('gives different refused arguments different hashes', async () => {
    await raw('tools/call', '{"name":"say","arguments":{"n":1e400}}');
    await raw('tools/call', '{"name":"say","arguments":{"n":-1e400}}');
    await raw('tools/call', `{"name":"say","arguments":{"d":${nested(70, '1')}}}`);
    await raw('tools/call', `{"name":"say","arguments":{"d":${nested(70, '2')}}}`);
    const hashes = (await records('call.denied')).map((r) => r.argsHash as string);
    expect(new Set(hashes).size).toBe(4);
  });

  it('records a refusal before resolution (unknown tool) even with such arguments', async () => {
    const answer = await raw('tools/call', `{"name":"nope","arguments":{"n":1e400,"d":${nested(5000)}}}`);
    expect(answer.error?.data).toMatchObject({ code: 'mcp.unknown_tool' });
    const [denied] = await records('call.denied');
    expect(denied).toMatchObject({ target: { tool: 'nope' }, outcome: { code: 'mcp.unknown_tool' } });
    expect(denied?.argsHash).toMatch(/^sha256:/);
    expect(JSON.stringify(denied?.args)).toContain('[Infinity]');
  });

  it('forwards and records arguments that are unusual but exact: -0, lone surrogates, "__proto__", wide objects', async () => {
    const wide = Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(',');
    const answer = await raw('tools/call', `{"name":"say","arguments":{"z":-0,"s":"\\ud800","__proto__":{"admin":true},${wide}}}`);
    expect(answer.error).toBeUndefined();
    expect(echo.calls).toHaveLength(1);
    expect(Object.hasOwn(echo.calls[0]?.params.arguments as object, '__proto__')).toBe(true);
    const [intent] = await records('call.intent');
    expect(intent?.args).toMatchObject({ z: 0, s: '\ud800' });
    // (An object literal's __proto__ would set a prototype; the record must hold a member.)
    expect(Object.hasOwn(intent?.args as object, '__proto__')).toBe(true);
    expect((intent?.args as Record<string, unknown>).__proto__).toEqual({ admin: true });
    expect(Object.keys(intent?.args as object)).toHaveLength(101);
    expect(await records('call.result')).toHaveLength(1);
  });
});
