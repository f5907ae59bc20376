import { createHash } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJsonLenient } from '../audit/index.js';

/** What a pin covers: everything an agent reads or a policy decides on. */
export interface PinnedDefinition {
  canonical: string;
  digest: string;
}

const cache = new WeakMap<Tool, PinnedDefinition>();

/**
 * The tool's definition as pinned: name, title, description, input and output schema and
 * annotations, in canonical JSON (sorted keys), and its SHA-256. Any change an agent could
 * notice — a reworded description, a new parameter, a dropped readOnlyHint — changes the
 * digest. Catalog entries are immutable once loaded, so the result is cached per object.
 */
export function pinnedDefinition(tool: Tool): PinnedDefinition {
  let found = cache.get(tool);
  if (!found) {
    const canonical = canonicalJsonLenient({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: tool.inputSchema,
      outputSchema: tool.outputSchema,
      annotations: tool.annotations,
    });
    found = { canonical, digest: createHash('sha256').update(canonical).digest('hex') };
    cache.set(tool, found);
  }
  return found;
}
