import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type Result,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

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

type Item = Catalog[CatalogKind][number];
type Lister = (
  client: Client,
  params: { cursor: string } | undefined,
  opts: { timeout: number },
) => Promise<{ items: Item[]; nextCursor?: string | undefined }>;

/**
 * Per kind: the server capability that offers it, the SDK call that lists one page of it over a
 * session (the SDK's own listers, so it keeps what it caches from them, e.g. tools' output
 * schemas), and the method, result schema and item field for a stateless upstream.
 */
const LISTS = {
  tools: {
    capability: 'tools',
    page: (async (c, p, o) => c.listTools(p, o).then((r) => ({ items: r.tools, nextCursor: r.nextCursor }))) as Lister,
    method: 'tools/list',
    schema: ListToolsResultSchema,
    items: 'tools',
  },
  resources: {
    capability: 'resources',
    page: (async (c, p, o) => c.listResources(p, o).then((r) => ({ items: r.resources, nextCursor: r.nextCursor }))) as Lister,
    method: 'resources/list',
    schema: ListResourcesResultSchema,
    items: 'resources',
  },
  resourceTemplates: {
    capability: 'resources',
    page: (async (c, p, o) => c.listResourceTemplates(p, o).then((r) => ({ items: r.resourceTemplates, nextCursor: r.nextCursor }))) as Lister,
    method: 'resources/templates/list',
    schema: ListResourceTemplatesResultSchema,
    items: 'resourceTemplates',
  },
  prompts: {
    capability: 'prompts',
    page: (async (c, p, o) => c.listPrompts(p, o).then((r) => ({ items: r.prompts, nextCursor: r.nextCursor }))) as Lister,
    method: 'prompts/list',
    schema: ListPromptsResultSchema,
    items: 'prompts',
  },
} as const;

export async function fetchCatalogPart(client: Client, kind: CatalogKind, timeoutMs: number): Promise<Catalog[CatalogKind]> {
  const list = LISTS[kind];
  if (!client.getServerCapabilities()?.[list.capability]) return [];
  const opts = { timeout: timeoutMs };
  // Each kind's lister returns that kind's items only.
  return (await allPages((cursor) => list.page(client, cursor ? { cursor } : undefined, opts))) as Catalog[CatalogKind];
}

/** One part of a stateless (2026-07-28) upstream's catalog, all pages, each page checked against its list's shape. */
export async function fetchStatelessCatalogPart(
  capabilities: Record<string, unknown>,
  kind: CatalogKind,
  request: (method: string, params: Record<string, unknown>) => Promise<Result>,
): Promise<Catalog[CatalogKind]> {
  const list = LISTS[kind];
  if (!capabilities[list.capability]) return [];
  return allPages<unknown>(async (cursor) => {
    const page = list.schema.parse(await request(list.method, cursor ? { cursor } : {})) as Record<string, unknown> & { nextCursor?: string };
    return { items: page[list.items] as unknown[], nextCursor: page.nextCursor };
  }) as Promise<Catalog[CatalogKind]>;
}
