// The `payload` tool of the bench's echo servers: a realistic JSON tool result of about
// `bytes` bytes (records with names, emails, phone numbers, ids, timestamps, URLs, prose and a
// few secrets, some of them the gateway's held values). Eight variants per size, taken in
// turn, so results bring numbers a validation cache has not seen (as new results do).
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { document } from '../sanitize-engine.ts';
import { benchHeldValues } from './full-pipeline.ts';

const VARIANTS = 8;
const MAX_BYTES = 8 << 20;

export function registerPayloadTool(server: McpServer): void {
  const held = benchHeldValues();
  const cache = new Map<number, string[]>();
  const turn = new Map<number, number>();
  server.registerTool(
    'payload',
    { description: 'Returns a JSON document of about `bytes` bytes', inputSchema: { bytes: z.number().int().min(2).max(MAX_BYTES) } },
    async ({ bytes }) => {
      let docs = cache.get(bytes);
      if (!docs) cache.set(bytes, (docs = Array.from({ length: VARIANTS }, () => document(bytes, held))));
      const n = turn.get(bytes) ?? 0;
      turn.set(bytes, n + 1);
      return { content: [{ type: 'text', text: docs[n % VARIANTS] as string }] };
    },
  );
}
