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

/** Per process, not per server: the direct path builds a server per session. */
const documents = new Map<number, string[]>();
const turns = new Map<number, number>();
const held = benchHeldValues();

/** The next variant for `bytes`, each generated on first use (spread over the warm-up calls). */
function nextDocument(bytes: number): string {
  let docs = documents.get(bytes);
  if (!docs) documents.set(bytes, (docs = []));
  const n = (turns.get(bytes) ?? 0) % VARIANTS;
  turns.set(bytes, n + 1);
  docs[n] ??= document(bytes, held);
  return docs[n] as string;
}

export function registerPayloadTool(server: McpServer): void {
  server.registerTool(
    'payload',
    { description: 'Returns a JSON document of about `bytes` bytes', inputSchema: { bytes: z.number().int().min(2).max(MAX_BYTES) } },
    async ({ bytes }) => ({ content: [{ type: 'text', text: nextDocument(bytes) }] }),
  );
}
