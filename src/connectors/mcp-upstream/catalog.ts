import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

export type CatalogKind = 'tools' | 'resources' | 'resourceTemplates' | 'prompts';

/** What one upstream offers, fetched whole (all pages) and refreshed on list_changed. */
export interface Catalog {
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
}

export const emptyCatalog = (): Catalog => ({ tools: [], resources: [], resourceTemplates: [], prompts: [] });

/** Upper bound on pages per list, so a misbehaving upstream cannot loop the gateway forever. */
const MAX_PAGES = 100;

async function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await fetchPage(cursor);
    items.push(...result.items);
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  return items;
}

export async function fetchCatalogPart(client: Client, kind: CatalogKind, timeoutMs: number): Promise<Catalog[CatalogKind]> {
  const caps = client.getServerCapabilities() ?? {};
  const opts = { timeout: timeoutMs };
  switch (kind) {
    case 'tools':
      if (!caps.tools) return [];
      return allPages(async (cursor) => {
        const r = await client.listTools(cursor ? { cursor } : undefined, opts);
        return { items: r.tools, nextCursor: r.nextCursor };
      });
    case 'resources':
      if (!caps.resources) return [];
      return allPages(async (cursor) => {
        const r = await client.listResources(cursor ? { cursor } : undefined, opts);
        return { items: r.resources, nextCursor: r.nextCursor };
      });
    case 'resourceTemplates':
      if (!caps.resources) return [];
      return allPages(async (cursor) => {
        const r = await client.listResourceTemplates(cursor ? { cursor } : undefined, opts);
        return { items: r.resourceTemplates, nextCursor: r.nextCursor };
      });
    case 'prompts':
      if (!caps.prompts) return [];
      return allPages(async (cursor) => {
        const r = await client.listPrompts(cursor ? { cursor } : undefined, opts);
        return { items: r.prompts, nextCursor: r.nextCursor };
      });
  }
}
