/**
 * The program a connector's sandboxed process runs: `node host.js <connector file>`. It loads
 * the connector, announces its tools to the gateway and runs handler calls. The channel is the
 * process's stdin/stdout (framed JSON); the connector's own writes to stdout go to stderr so
 * they cannot corrupt it.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  isConnectorDefinition,
  type ConnectorCredential,
  type ConnectorDefinition,
  type ConnectorFetchInit,
  type ToolContext,
  type ToolResult,
} from './define.js';
import { encodeFrame, FrameDecoder } from './frame.js';
import { guardImports } from './import-guard.js';
import {
  CredentialResultSchema,
  FetchResultSchema,
  ToConnectorSchema,
  type CallMessage,
  type CredentialRequest,
  type FetchRequest,
  type FromConnector,
} from './messages.js';
import { Redactor } from './redact.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.stdout;
const writeOut = out.write.bind(out);
// Anything the connector prints goes to stderr (the gateway logs it); stdout is the channel.
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;

function send(message: FromConnector): void {
  writeOut(encodeFrame(message));
}

const redactor = new Redactor();
type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
const pending = new Map<string, Pending>();
const running = new Map<string, AbortController>();
let seq = 0;

type Request = Omit<CredentialRequest, 'id'> | Omit<FetchRequest, 'id'>;

function request<T>(message: Request): Promise<T> {
  const id = `r${++seq}`;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    send({ ...message, id } as FromConnector);
  });
}

function toResult(value: ToolResult): { content: unknown[]; isError?: boolean } {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  if (value && typeof value === 'object' && !Array.isArray(value) && Array.isArray((value as { content?: unknown }).content))
    return value as { content: unknown[]; isError?: boolean };
  return { content: [{ type: 'text', text: JSON.stringify(value ?? null) }] };
}

function makeContext(call: CallMessage, signal: AbortSignal, active: () => boolean): ToolContext {
  const log =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: Record<string, unknown>): void => {
      const clean = redactor.redact({ message: String(message), fields: fields ?? {} }) as { message: string; fields: Record<string, unknown> };
      send({ type: 'log', call: call.id, level, message: clean.message.slice(0, 4096), fields: clean.fields });
    };
  return Object.freeze({
    actor: Object.freeze({ sub: call.actor.sub, groups: Object.freeze([...call.actor.groups]) }),
    purpose: call.purpose,
    requestId: call.requestId,
    settings: Object.freeze({ ...call.settings }),
    signal,
    log: Object.freeze({ debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }),
    async credential(name: string): Promise<ConnectorCredential> {
      if (!active()) throw new Error('ctx.credential() is only available while the handler runs');
      const answer = CredentialResultSchema.parse(await request({ type: 'credential', call: call.id, name: String(name) }));
      if (!answer.ok) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
      for (const value of [...Object.values(answer.credential.headers), ...Object.values(answer.credential.query)]) redactor.add(value);
      return Object.freeze({ headers: Object.freeze({ ...answer.credential.headers }), query: Object.freeze({ ...answer.credential.query }) });
    },
    // A property, not a method: the process has no network; this is a request to the gateway.
    fetch: async (url: string | URL, init: ConnectorFetchInit = {}): Promise<Response> => {
      if (!active()) throw new Error('ctx.fetch() is only available while the handler runs');
      const answer = FetchResultSchema.parse(
        await request({
          type: 'fetch',
          call: call.id,
          url: String(url),
          method: (init.method ?? 'GET').toUpperCase() as 'GET',
          headers: { ...init.headers },
          ...(init.body !== undefined ? { body: init.body } : {}),
        }),
      );
      if (!answer.ok) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
      const nullBody = [101, 103, 204, 205, 304].includes(answer.status);
      return new Response(nullBody ? null : Buffer.from(answer.body, 'base64'), { status: answer.status, headers: answer.headers });
    },
  });
}

async function runCall(connector: ConnectorDefinition, call: CallMessage): Promise<void> {
  const tool = connector.tools.find((t) => t.name === call.tool);
  if (!tool) {
    send({ type: 'result', id: call.id, ok: false, error: { code: 'connector.unknown_tool', message: `no tool ${call.tool}` } });
    return;
  }
  const controller = new AbortController();
  running.set(call.id, controller);
  let active = true;
  try {
    const parsed = await tool.input.safeParseAsync(call.args);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ');
      send({ type: 'result', id: call.id, ok: true, result: { content: [{ type: 'text', text: `Invalid arguments: ${issues}` }], isError: true } });
      return;
    }
    const value = await tool.handler(
      makeContext(call, controller.signal, () => active),
      parsed.data,
    );
    send({ type: 'result', id: call.id, ok: true, result: redactor.redact(toResult(value)) as { content: unknown[] } });
  } catch (error) {
    const message = redactor.redactText(error instanceof Error ? error.message : String(error)).slice(0, 2048);
    send({ type: 'result', id: call.id, ok: false, error: { code: 'connector.handler_failed', message } });
  } finally {
    active = false;
    running.delete(call.id);
  }
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: host.js <connector file>');
  const connectorFile = realpathSync(path.resolve(file));
  const zodRoot = path.dirname(fileURLToPath(import.meta.resolve('zod/package.json')));
  guardImports({ sdkEntry: path.join(here, 'index.js'), roots: [path.dirname(connectorFile), here, realpathSync(zodRoot)] });
  const loaded = (await import(pathToFileURL(connectorFile).href)) as { default?: unknown };
  const connector = loaded.default;
  if (!isConnectorDefinition(connector)) throw new Error(`${path.basename(connectorFile)} must export default defineConnector({ … })`);
  const tools = connector.tools.map((tool) => {
    const schema = z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    if (schema.type !== 'object') throw new Error(`tool ${tool.name}: input must be a z.object(…)`);
    delete schema.$schema;
    return {
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      inputSchema: schema,
      effect: tool.effect,
      ...(tool.classification ? { classification: tool.classification } : {}),
    };
  });
  send({ type: 'hello', name: connector.name, tools });
  const decoder = new FrameDecoder();
  process.stdin.on('data', (chunk: Buffer) => {
    for (const raw of decoder.push(chunk)) {
      const message = ToConnectorSchema.parse(raw);
      if (message.type === 'call') void runCall(connector, message);
      else if (message.type === 'cancel') running.get(message.id)?.abort();
      else {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        waiter?.resolve(message);
      }
    }
  });
  // The gateway closing the channel ends the connector.
  process.stdin.on('end', () => process.exit(0));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  try {
    send({ type: 'fatal', message: message.slice(0, 4096) });
  } finally {
    process.stderr.write(`connector failed to load: ${message}\n`);
    process.exitCode = 1;
  }
});
