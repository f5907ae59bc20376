import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cli, NODE, ROOT, startGateway, tempDir, type GatewayProcess } from '../helpers/e2e.js';

const LEAKY = path.join(ROOT, 'test/fixtures/leaky-server.mjs');
const R = '[REDACTED:vault]';

/**
 * A server holding a vault credential tries to hand it to the agent through every channel MCP
 * has. What the client receives is checked as raw bytes — JSON bodies and event streams as they
 * came off the socket — not as the SDK parsed them.
 */
describe('channels: a held credential never reaches the client, whichever way a server sends it', () => {
  const canary = `canary-${randomBytes(16).toString('hex')}`;
  const masterKey = randomBytes(32).toString('base64');
  let gw: GatewayProcess;
  let token: string;
  let client: Client;
  /** Every response body byte the client received, in arrival order. */
  const raw: string[] = [];
  /** How many response bodies came as plain JSON and as event streams. */
  const bodies = { json: 0, sse: 0 };
  const seen = { sampling: [] as unknown[], elicitation: [] as unknown[] };
  const received = () => raw.join('');

  beforeAll(async () => {
    const dataDir = path.join(tempDir('gh-channels-'), 'data');
    const put = await cli(['vault', 'put', 'canary', '--data-dir', dataDir], { env: { ...process.env, GATEHOUSE_MASTER_KEY: masterKey }, input: canary });
    expect(put.code, put.stderr).toBe(0);
    gw = await startGateway({
      dataDir,
      env: { GATEHOUSE_MASTER_KEY: masterKey },
      config: {
        servers: { leaky: { command: NODE, args: [LEAKY], env: { LEAK: 'vault:canary' } } },
        access: [{ allow: { users: ['alice'], servers: ['leaky'] } }],
      },
    });
    token = await gw.token('alice');
    client = new Client({ name: 'recording-agent', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: { form: {} } } });
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      seen.sampling.push(request.params);
      return { role: 'assistant', content: { type: 'text', text: 'fine' }, model: 'test-model' };
    });
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      seen.elicitation.push(request.params);
      return { action: 'accept', content: { answer: 'yes' } };
    });
    const transport = new StreamableHTTPClientTransport(new URL(gw.mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      fetch: async (url, init) => {
        const response = await fetch(url, init);
        if (!response.body) return response;
        const type = response.headers.get('content-type') ?? '';
        if (type.startsWith('application/json')) bodies.json++;
        if (type.startsWith('text/event-stream')) bodies.sse++;
        const [mine, theirs] = response.body.tee();
        void (async () => {
          const decoder = new TextDecoder();
          for await (const chunk of mine) raw.push(decoder.decode(chunk, { stream: true }));
        })().catch(() => undefined);
        return new Response(theirs, { status: response.status, statusText: response.statusText, headers: response.headers });
      },
    });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await cleanup();
  });

  const leak = (channel: string, extra: Record<string, unknown> = {}) => client.callTool({ name: 'leak', arguments: { channel, ...extra } });

  it('initialize: the upstream instructions arrive with the credential redacted', () => {
    expect(received()).toContain(`LEAK-instructions: use key ${R}`);
    expect(client.getInstructions()).toContain(`LEAK-instructions: use key ${R}`);
  });

  it('lists: tool, prompt, resource and template descriptions and schemas', async () => {
    const tools = await client.listTools();
    expect(tools.tools[0]).toMatchObject({
      description: `LEAK-tool-description: ${R}`,
      inputSchema: { properties: { channel: { description: `LEAK-schema-description: ${R}` }, text: { default: R } } },
    });
    const prompts = await client.listPrompts();
    expect(prompts.prompts[0]).toMatchObject({ description: `LEAK-prompt-description:${R}`, arguments: [{ description: `LEAK-prompt-argument:${R}` }] });
    expect((await client.listResources()).resources[0]?.description).toBe(`LEAK-resource-description:${R}`);
    expect((await client.listResourceTemplates()).resourceTemplates[0]?.description).toBe(`LEAK-template-description:${R}`);
  });

  it('tool results: text, split across two content items, structuredContent key and value, _meta, base64', async () => {
    expect((await leak('text')).content).toEqual([{ type: 'text', text: `LEAK-text:${R}` }]);
    expect((await leak('split')).content).toEqual([
      { type: 'text', text: `LEAK-split-a:${R}` },
      { type: 'text', text: `${R}:LEAK-split-b` },
    ]);
    expect((await leak('structured')).structuredContent).toEqual({ [R]: 'LEAK-structured-key', value: `LEAK-structured-value:${R}` });
    expect((await leak('meta'))._meta).toEqual({ 'leaky/debug': `LEAK-meta:${R}` });
    // Only the base64 characters that depend on the credential's bytes go; the few at the edges encode "svc:" and padding.
    expect(((await leak('base64')).content as { text: string }[])[0]?.text).toMatch(
      /^LEAK-base64:Basic [A-Za-z0-9+/]{0,8}\[REDACTED:vault\][A-Za-z0-9+/=]{0,4}$/,
    );
  });

  it('a JSON-RPC error: message and data', async () => {
    const error = await leak('error').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain(`LEAK-error-message:${R}`);
    expect(JSON.stringify((error as McpError).data)).toContain(`LEAK-error-data:${R}`);
    expect(received()).toContain(`LEAK-error-message:${R}`);
  });

  it('notifications on the call’s event stream: progress message and log message', async () => {
    const progress: unknown[] = [];
    await client.callTool({ name: 'leak', arguments: { channel: 'progress' } }, undefined, { onprogress: (p) => progress.push(p) });
    expect(progress).toEqual([expect.objectContaining({ message: `LEAK-progress:${R}` })]);
    await leak('log');
    expect(received()).toContain(`LEAK-log:${R}`);
    expect(received()).toContain(`leaky/leaky-${R}`);
  });

  it('requests the upstream sends to the client: sampling and elicitation', async () => {
    expect((await leak('sampling')).content).toEqual([{ type: 'text', text: 'LEAK-sampling-done:fine' }]);
    expect(seen.sampling).toEqual([
      expect.objectContaining({
        systemPrompt: `LEAK-sampling-system:${R}`,
        messages: [{ role: 'user', content: { type: 'text', text: `LEAK-sampling:${R}` } }],
      }),
    ]);
    expect((await leak('elicitation')).content).toEqual([{ type: 'text', text: 'LEAK-elicitation-done:accept' }]);
    expect(seen.elicitation).toEqual([expect.objectContaining({ message: `LEAK-elicitation:${R}` })]);
    expect(JSON.stringify(seen.elicitation)).toContain(`LEAK-elicitation-schema:${R}`);
  });

  it('resource contents (text and blob), prompt messages and completions', async () => {
    const read = await client.readResource({ uri: 'leaky://doc' });
    expect(read.contents).toEqual([
      { uri: 'leaky://doc', mimeType: 'text/plain', text: `LEAK-resource-text:${R}` },
      // A base64 member stays base64: the placeholder, encoded.
      { uri: 'leaky://doc#bin', mimeType: 'application/octet-stream', blob: Buffer.from(R).toString('base64') },
    ]);
    const prompt = await client.getPrompt({ name: 'brief', arguments: { topic: 'x' } });
    expect(prompt).toMatchObject({ description: `LEAK-prompt-get-description:${R}`, messages: [{ content: { text: `LEAK-prompt-message:${R}` } }] });
    const completion = await client.complete({ ref: { type: 'ref/prompt', name: 'brief' }, argument: { name: 'topic', value: 'L' } });
    expect(completion.completion.values).toEqual([`LEAK-completion:${R}`, 'plain']);
  });

  it('the caller’s own token, echoed back by a server, is redacted as well', async () => {
    const echoed = await leak('echo', { text: `you sent Bearer ${token}` });
    // The token is a JWT: the secret-format detector in the pipeline's sanitize stage finds it
    // first; the transport's check of the session's own tokens is the backstop for any other form.
    expect(echoed.content).toEqual([{ type: 'text', text: 'LEAK-echo:you sent Bearer [REDACTED:jwt]' }]);
  });

  it('in none of the bytes the client received: not the credential, not its encodings, not the token', async () => {
    // Let the tee'd readers drain what is in flight.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const everything = received();
    expect(everything.length).toBeGreaterThan(1000);
    expect(everything.split(R).length - 1).toBeGreaterThanOrEqual(25);
    for (const form of [
      canary,
      Buffer.from(canary).toString('base64'),
      Buffer.from(`svc:${canary}`).toString('base64'),
      canary.slice(0, Math.floor(canary.length / 2)),
      canary.slice(Math.floor(canary.length / 2)),
      token,
    ]) {
      expect(everything).not.toContain(form);
    }
    // Both ways an answer travels were exercised: plain JSON bodies and event streams.
    expect(bodies.json).toBeGreaterThan(5);
    expect(bodies.sse).toBeGreaterThan(2);
    expect(everything).toContain(`event: message\ndata: `);
  });
});
