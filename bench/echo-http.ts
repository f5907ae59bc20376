// The direct path (a): the benchmark's echo upstream over Streamable HTTP, with the SDK's own
// server transport, as `test/fixtures/echo-server.mjs --http` serves it, minus the fixture's
// test instrumentation (it records every request's headers, which grows without bound under
// load and would tax the baseline with GC). Same tools: `createEchoServer` from the fixture,
// plus `payload` (bench/lib/payload-tool.ts), as bench/echo-stdio.ts serves them over stdio.
//
//   node bench/echo-http.ts [PORT]   → prints "listening <port>"
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { registerPayloadTool } from './lib/payload-tool.ts';

const fixture = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'echo-server.mjs')).href;
const { createEchoServer } = (await import(fixture)) as { createEchoServer: () => McpServer };

const transports = new Map<string, StreamableHTTPServerTransport>();
const http = createServer(async (req, res) => {
  const sid = req.headers['mcp-session-id'];
  let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
  if (!transport) {
    const created = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void transports.set(id, created),
    });
    created.onclose = () => {
      if (created.sessionId) transports.delete(created.sessionId);
    };
    const server = createEchoServer();
    registerPayloadTool(server);
    await server.connect(created);
    transport = created;
  }
  await transport.handleRequest(req, res);
});
http.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = http.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : ''}\n`);
});
