import type { Prompt, Resource, ResourceTemplate, Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { ServerConfig } from '../config/index.js';
import { emptyCatalog, type Catalog, type Connector, type ConnectorOwner } from '../connectors/index.js';
import { InvalidParamsError, RefusedError, RpcCode } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { effectiveAnnotations, ToolQuarantinedError, trustedAnnotations, type ToolPins } from '../pinning/index.js';
import type { Authorizer } from '../policy/index.js';
import { checkReach, type Principal } from '../tokens/index.js';
import { qualify, type Naming } from './naming.js';

export interface ResolvedTool {
  server: string;
  tool: Tool;
  annotations: ToolAnnotations | undefined;
}

/**
 * The aggregated, per-principal view of every connector's catalog: what the agent may see
 * (names exposed with prefixes, items filtered by policy) and how an exposed name or URI maps
 * back to a server. Upstream annotations are overridden by config: an upstream cannot
 * declare its own tools harmless.
 */
export class CatalogView {
  #templates = new Map<string, UriTemplate>();

  constructor(
    private readonly connectors: ReadonlyMap<string, Connector>,
    private readonly servers: Readonly<Record<string, ServerConfig>>,
    private readonly naming: Naming,
    private readonly authorizer: () => Authorizer,
    private readonly log: Logger,
    /** Rug-pull pins and description scanning for proxied servers; none in tests that do not need it. */
    private readonly pins?: ToolPins,
  ) {}

  /** Every connector's catalog; one that cannot answer (down, restarting) contributes nothing. */
  #catalogs(owner: ConnectorOwner): Promise<[string, Catalog][]> {
    return Promise.all(
      [...this.connectors.values()].map(async (c) => {
        try {
          return [c.name, await c.catalog(owner)] as [string, Catalog];
        } catch (error) {
          this.log.warn({ server: c.name, err: (error as Error).message }, 'catalog unavailable; omitted from lists');
          return [c.name, emptyCatalog()] as [string, Catalog];
        }
      }),
    );
  }

  /**
   * Effective annotations: a proxied upstream's are claims that may only restrict its tool;
   * a built-in connector's are Gatehouse's own. Config overrides either way.
   */
  annotationsFor(server: string, tool: Tool): ToolAnnotations | undefined {
    const override = this.servers[server]?.tools[tool.name]?.annotations;
    if (this.connectors.get(server)?.kind === 'mcp-upstream') return effectiveAnnotations(tool.annotations, override);
    return trustedAnnotations(tool.annotations, override);
  }

  /** The tools of a catalog agents may see: quarantined ones left out, poisoned descriptions neutralized. */
  async #admitted(server: string, tools: Tool[]): Promise<{ tools: Tool[]; quarantined: ReadonlyMap<string, 'new' | 'changed' | 'poisoned'> }> {
    return this.pins ? this.pins.admit(server, tools) : { tools, quarantined: new Map() };
  }

  /** Listed only when within the token's reach (scopes, authorization details) and not denied by policy. */
  #visible(principal: Principal, server: string, kind: 'tool' | 'prompt' | 'resource', id: string, annotations?: ToolAnnotations, name = id): boolean {
    if (!checkReach(principal, { kind, server, name, id }, false).ok) return false;
    return this.authorizer().decide({ principal, action: 'list', server, kind, id, annotations }).effect !== 'deny';
  }

  async tools(principal: Principal, owner: ConnectorOwner): Promise<Tool[]> {
    const out: Tool[] = [];
    for (const [server, catalog] of await this.#catalogs(owner)) {
      for (const tool of (await this.#admitted(server, catalog.tools)).tools) {
        const annotations = this.annotationsFor(server, tool);
        if (!this.#visible(principal, server, 'tool', qualify(server, tool.name), annotations, tool.name)) continue;
        out.push({ ...tool, name: this.naming.expose(server, tool.name), ...(annotations ? { annotations } : {}) });
      }
    }
    return out;
  }

  async prompts(principal: Principal, owner: ConnectorOwner): Promise<Prompt[]> {
    const out: Prompt[] = [];
    for (const [server, catalog] of await this.#catalogs(owner)) {
      for (const prompt of this.pins ? this.pins.admitPrompts(server, catalog.prompts).prompts : catalog.prompts) {
        if (!this.#visible(principal, server, 'prompt', qualify(server, prompt.name), undefined, prompt.name)) continue;
        out.push({ ...prompt, name: this.naming.expose(server, prompt.name) });
      }
    }
    return out;
  }

  async resources(principal: Principal, owner: ConnectorOwner): Promise<Resource[]> {
    return this.#visibleResources(principal, owner, 'resources', (resource) => resource.uri);
  }

  async resourceTemplates(principal: Principal, owner: ConnectorOwner): Promise<ResourceTemplate[]> {
    return this.#visibleResources(principal, owner, 'resourceTemplates', (template) => template.uriTemplate);
  }

  /** The entries of one resource list of every catalog that `principal` may read, by their URI (or URI template). */
  async #visibleResources<K extends 'resources' | 'resourceTemplates'>(
    principal: Principal,
    owner: ConnectorOwner,
    kind: K,
    uri: (entry: Catalog[K][number]) => string,
  ): Promise<Catalog[K][number][]> {
    const out: Catalog[K][number][] = [];
    for (const [server, catalog] of await this.#catalogs(owner)) {
      for (const entry of catalog[kind] as Catalog[K][number][]) {
        if (this.#visible(principal, server, 'resource', uri(entry))) out.push(entry);
      }
    }
    return out;
  }

  /** The server and tool behind an exposed tool name, from the gateway's own catalog. */
  async resolveTool(exposed: string, owner: ConnectorOwner): Promise<ResolvedTool | undefined> {
    const found: ResolvedTool[] = [];
    for (const { server, name } of this.#candidates(exposed)) {
      const connector = this.connectors.get(server);
      if (!connector) continue;
      const tools = (await connector.catalog(owner)).tools;
      if (!tools.some((t) => t.name === name)) continue;
      const admission = await this.#admitted(server, tools);
      const why = admission.quarantined.get(name);
      // Refused with its reason rather than "unknown": the agent (and its user) should know the
      // tool is held for review, not that it vanished.
      if (why) throw new ToolQuarantinedError(exposed, qualify(server, name), why);
      const tool = admission.tools.find((t) => t.name === name);
      if (tool) found.push({ server, tool, annotations: this.annotationsFor(server, tool) });
    }
    return this.#one(found, 'tool', exposed);
  }

  async resolvePrompt(exposed: string, owner: ConnectorOwner): Promise<{ server: string; name: string } | undefined> {
    const found: { server: string; name: string }[] = [];
    for (const { server, name } of this.#candidates(exposed)) {
      const connector = this.connectors.get(server);
      if (!connector) continue;
      const prompts = (await connector.catalog(owner)).prompts;
      if (!prompts.some((p) => p.name === name)) continue;
      if (this.pins?.admitPrompts(server, prompts).quarantined.has(name)) throw new PromptQuarantinedError(exposed);
      found.push({ server, name });
    }
    return this.#one(found, 'prompt', exposed);
  }

  /**
   * Where an exposed name can come from. With prefixes, only the prefixed names the agent was
   * shown resolve — a bare upstream name is unknown, not looked up across servers. Without
   * prefixes (mode `never`), every server is a candidate.
   */
  #candidates(exposed: string): { server: string; name: string }[] {
    const parsed = this.naming.parse(exposed);
    if (parsed) return [parsed];
    if (this.naming.prefixed) return [];
    return [...this.connectors.keys()].map((server) => ({ server, name: exposed }));
  }

  /** A name two unprefixed servers both offer is refused rather than guessed: one upstream could shadow another's tool. */
  #one<T extends { server: string }>(found: T[], kind: 'tool' | 'prompt', exposed: string): T | undefined {
    if (found.length > 1) {
      throw new InvalidParamsError(
        `mcp.ambiguous_${kind}`,
        `More than one server offers the ${kind} "${exposed}"; enable name prefixes (naming.mode) to tell them apart.`,
        {
          data: { servers: found.map((f) => f.server) },
        },
      );
    }
    return found[0];
  }

  /**
   * The one server that owns `uri`: listed exactly, or matched by one of its templates. A URI
   * two servers could claim is refused rather than guessed (it could be a hijack attempt).
   */
  async resolveResource(uri: string, owner: ConnectorOwner): Promise<{ server: string } | 'ambiguous' | undefined> {
    const catalogs = await this.#catalogs(owner);
    const exact = catalogs.filter(([, c]) => c.resources.some((r) => r.uri === uri)).map(([s]) => s);
    if (exact.length === 1) return { server: exact[0] as string };
    if (exact.length > 1) return 'ambiguous';
    const matched = catalogs.filter(([, c]) => c.resourceTemplates.some((t) => this.#template(t.uriTemplate).match(uri) !== null)).map(([s]) => s);
    if (matched.length === 1) return { server: matched[0] as string };
    if (matched.length > 1) return 'ambiguous';
    return undefined;
  }

  #template(source: string): UriTemplate {
    let template = this.#templates.get(source);
    if (!template) {
      template = new UriTemplate(source);
      this.#templates.set(source, template);
    }
    return template;
  }
}

/** A prompt held back because its description reads like instructions to the model. */
export class PromptQuarantinedError extends RefusedError {
  constructor(exposed: string) {
    super(
      'prompt.quarantined',
      'prompt_quarantined',
      `The prompt "${exposed}" is quarantined: its description reads like instructions to the model.`,
      403,
      RpcCode.Denied,
    );
  }
}
