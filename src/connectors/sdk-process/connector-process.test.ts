import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../log/index.js';
import type { CallMessage } from '../sdk/messages.js';
import { ConnectorProcess, ConnectorProcessError, type CallServices } from './connector-process.js';

/** A stand-in connector speaking the channel by hand, misbehaving as `mode` says. */
const SCRIPT = `
const mode = process.argv[1];
const frame = (m) => { const b = Buffer.from(JSON.stringify(m)); const h = Buffer.alloc(4); h.writeUInt32BE(b.length); process.stdout.write(Buffer.concat([h, b])); };
const hello = () => frame({ type: 'hello', name: 'x', tools: [{ name: 't', inputSchema: { type: 'object' }, effect: 'read' }] });
if (mode === 'malformed') frame({ type: 'hello', name: 'x', tools: [{ name: 'a__b', inputSchema: {}, effect: 'read' }] });
if (mode === 'huge') { const h = Buffer.alloc(4); h.writeUInt32BE(0xfffffff0); process.stdout.write(h); }
if (mode === 'exit') process.exit(1);
if (mode === 'silent') setInterval(() => {}, 1000);
if (mode === 'hang') { hello(); process.stdin.on('data', () => {}); }
if (mode === 'borrow' || mode === 'echo') {
  hello();
  let buf = Buffer.alloc(0); let call;
  process.stdin.on('data', (c) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      const m = JSON.parse(buf.subarray(4, 4 + buf.readUInt32BE(0)).toString()); buf = buf.subarray(4 + buf.readUInt32BE(0));
      if (m.type === 'call' && mode === 'echo') frame({ type: 'result', id: m.id, ok: true, result: { content: [{ type: 'text', text: m.actor.sub }] } });
      if (m.type === 'call' && mode === 'borrow') { call = m.id; frame({ type: 'credential', id: 'r1', call: 'someone-elses-call', name: 'api' }); }
      if (m.type === 'credential.result') frame({ type: 'result', id: call, ok: true, result: { content: [{ type: 'text', text: JSON.stringify(m) }] } });
    }
  });
}
`;

const processes: ConnectorProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop()));
});

function fake(mode: string, overrides: Partial<ConstructorParameters<typeof ConnectorProcess>[0]> = {}): ConnectorProcess {
  const p = new ConnectorProcess({
    server: 'x',
    log: silentLogger(),
    target: () => ({ command: process.execPath, args: ['-e', SCRIPT, mode], cwd: tmpdir() }),
    startupTimeoutMs: 5000,
    restartBackoffInitialMs: 100,
    restartBackoffMaxMs: 400,
    ...overrides,
  });
  processes.push(p);
  return p;
}

const services = (granted: string[]): CallServices => ({
  credential: async (request) => {
    granted.push(request.call);
    return { type: 'credential.result', id: request.id, ok: true, credential: { headers: { authorization: 'secret' }, query: {} } };
  },
  fetch: async () => {
    throw new Error('no fetch here');
  },
  log: () => undefined,
});

const call = (id: string, sub = 'alice'): CallMessage => ({
  type: 'call',
  id,
  tool: 't',
  args: {},
  actor: { sub, groups: [] },
  purpose: 'x__t',
  requestId: 'r',
  settings: {},
});

async function refusal(promise: Promise<unknown>): Promise<ConnectorProcessError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorProcessError);
  return error as ConnectorProcessError;
}

describe('ConnectorProcess', () => {
  it('answers a call with the outcome the process sends', async () => {
    const p = fake('echo');
    await p.start();
    expect(p.tools.map((t) => t.name)).toEqual(['t']);
    const outcome = await p.call(call('c1', 'bob'), services([]), new AbortController().signal);
    expect(outcome).toMatchObject({ ok: true, result: { content: [{ type: 'text', text: 'bob' }] } });
  });

  it('a malformed message ends the process: the start fails with connector.protocol', async () => {
    const p = fake('malformed');
    const error = await refusal(p.start());
    expect(error.code).toBe('connector.protocol');
    expect(error.message).toContain('malformed message');
  });

  it('an announced frame above the limit ends the process before any body is read', async () => {
    const error = await refusal(fake('huge').start());
    expect(error.code).toBe('connector.protocol');
    expect(error.message).toContain('exceeds the channel limit');
  });

  it('a process that never announces its tools is killed at the startup timeout', async () => {
    const error = await refusal(fake('silent', { startupTimeoutMs: 300 }).start());
    expect(error.code).toBe('connector.timeout');
  });

  it('a request naming a call not in flight gets nothing, and no service is asked', async () => {
    const p = fake('borrow');
    await p.start();
    const granted: string[] = [];
    const outcome = await p.call(call('c1'), services(granted), new AbortController().signal);
    const answer = JSON.parse((outcome as { result: { content: { text: string }[] } }).result.content[0]?.text ?? '{}');
    expect(answer).toEqual({
      type: 'credential.result',
      id: 'r1',
      ok: false,
      error: { code: 'connector.no_call', message: 'no call in progress with that id' },
    });
    expect(granted).toEqual([]);
  });

  it('a call the process never answers fails with connector.timeout, and the process keeps serving', async () => {
    const p = fake('hang');
    await p.start();
    const error = await refusal(p.call(call('c1'), services([]), new AbortController().signal, 200));
    expect(error.code).toBe('connector.timeout');
    expect(p.state).toBe('ready');
  });

  it('a process that keeps exiting is restarted with a doubling delay', async () => {
    const p = fake('exit');
    await refusal(p.start());
    expect(p.state).toBe('backoff');
    await new Promise((r) => setTimeout(r, 1200));
    // 100 + 200 + 400 (capped) … ms: a few restarts, not dozens.
    expect(p.restarts).toBeGreaterThanOrEqual(2);
    expect(p.restarts).toBeLessThanOrEqual(4);
    await refusal(p.call(call('c1'), services([]), new AbortController().signal));
  });
});
