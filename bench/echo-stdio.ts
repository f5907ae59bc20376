// The bench's stdio upstream: the test fixture's echo server (`createEchoServer`) plus the
// `payload` tool (results of a chosen size). mcp-proxy and Gatehouse both front this process.
//
//   node bench/echo-stdio.ts
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { registerPayloadTool } from './lib/payload-tool.ts';

const fixture = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'echo-server.mjs')).href;
const { createEchoServer } = (await import(fixture)) as { createEchoServer: () => McpServer };

const server = createEchoServer();
registerPayloadTool(server);
await server.connect(new StdioServerTransport());
