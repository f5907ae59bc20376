import type { Request } from '@modelcontextprotocol/sdk/types.js';
import type { ConnectorOwner } from '../connectors/index.js';
import { GatehouseError, InvalidParamsError, MethodNotFoundError, RpcCode } from '../errors/index.js';
import type { Operation } from '../pipeline/index.js';
import { normalizePathArguments, normalizeResourceUri } from '../policy/path-arguments.js';
import type { CatalogView } from './catalog-view.js';
import { qualify } from './naming.js';

export interface ResolveOptions {
  /** `servers.<name>.tools.<tool>.pathArguments`, when configured. */
  pathArguments?(server: string, tool: string): readonly string[] | undefined;
  /**
   * `target`: only find what the request addresses (the front door's scope check); arguments are
   * neither checked nor normalised, and `params` is not touched.
   */
  only?: 'target';
}

/** The target of an operation on a server's tool or prompt: policy and audit know it by its qualified name. */
function namedTarget(method: string, action: Operation['action'], kind: Operation['kind'], server: string, name: string): Omit<Operation, 'args'> {
  return { method, action, kind, server, name, id: qualify(server, name) };
}

const LIST_METHODS = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']);

/** Whether `method` lists a catalog (authorized item by item, not as a call). */
export function isListMethod(method: string): boolean {
  return LIST_METHODS.has(method);
}

/**
 * Maps a JSON-RPC request onto an operation: which server, which tool, prompt or resource, with
 * which arguments. Exposed names are rewritten to upstream names in `params` (what goes
 * upstream), and paths take their one canonical spelling before the token, validation or any
 * policy looks at them. Throws the typed refusal for what cannot be resolved; a method Gatehouse
 * does not know is never forwarded (default deny).
 */
export async function resolveOperation(
  view: CatalogView,
  request: Pick<Request, 'method'>,
  params: Record<string, unknown>,
  owner: ConnectorOwner,
  options: ResolveOptions = {},
): Promise<Operation> {
  const method = request.method;
  const targetOnly = options.only === 'target';
  switch (method) {
    case 'tools/list':
    case 'prompts/list':
    case 'resources/list':
    case 'resources/templates/list':
      return { method, action: 'list', kind: 'server', server: '*', name: method, id: method, args: undefined };
    case 'tools/call': {
      const name = requireString(params.name, 'name');
      const resolved = await view.resolveTool(name, owner);
      if (!resolved) throw new InvalidParamsError('mcp.unknown_tool', `Unknown tool: ${name}`);
      const target = namedTarget(method, 'call', 'tool', resolved.server, resolved.tool.name);
      if (targetOnly) return { ...target, args: undefined };
      const given = (params.arguments ?? {}) as Record<string, unknown>;
      if (typeof given !== 'object' || given === null || Array.isArray(given))
        throw new InvalidParamsError('mcp.invalid_arguments', 'Tool arguments must be an object.');
      const args = normalizePathArguments(given, {
        configured: options.pathArguments?.(resolved.server, resolved.tool.name),
        inputSchema: resolved.tool.inputSchema,
      });
      if (args !== given) params.arguments = args;
      params.name = resolved.tool.name;
      return { ...target, args, annotations: resolved.annotations, inputSchema: resolved.tool.inputSchema };
    }
    case 'prompts/get': {
      const name = requireString(params.name, 'name');
      const resolved = await view.resolvePrompt(name, owner);
      if (!resolved) throw new InvalidParamsError('mcp.unknown_prompt', `Unknown prompt: ${name}`);
      const target = namedTarget(method, 'get', 'prompt', resolved.server, resolved.name);
      if (targetOnly) return { ...target, args: undefined };
      const given = (params.arguments ?? {}) as Record<string, unknown>;
      const args = typeof given === 'object' && given !== null && !Array.isArray(given) ? normalizePathArguments(given, {}) : given;
      if (args !== given) params.arguments = args;
      params.name = resolved.name;
      return { ...target, args };
    }
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe': {
      const uri = normalizeResourceUri(requireString(params.uri, 'uri'));
      if (!targetOnly) params.uri = uri;
      const server = await resourceServer(view, uri, owner);
      return { method, action: 'read', kind: 'resource', server, name: uri, id: uri, args: undefined };
    }
    case 'completion/complete': {
      const ref = params.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
      const args = { argument: params.argument, context: params.context } as Record<string, unknown>;
      if (ref?.type === 'ref/prompt') {
        const name = requireString(ref.name, 'ref.name');
        const resolved = await view.resolvePrompt(name, owner);
        if (!resolved) throw new InvalidParamsError('mcp.unknown_prompt', `Unknown prompt: ${name}`);
        if (!targetOnly) params.ref = { ...ref, name: resolved.name };
        return { ...namedTarget(method, 'get', 'prompt', resolved.server, resolved.name), args };
      }
      if (ref?.type === 'ref/resource') {
        const uri = normalizeResourceUri(requireString(ref.uri, 'ref.uri'));
        if (uri !== ref.uri && !targetOnly) params.ref = { ...ref, uri };
        const server = await resourceServer(view, uri, owner);
        return { method, action: 'read', kind: 'resource', server, name: uri, id: uri, args };
      }
      throw new InvalidParamsError('mcp.invalid_params', 'completion/complete needs a ref of type ref/prompt or ref/resource.');
    }
    default:
      throw new MethodNotFoundError(method);
  }
}

async function resourceServer(view: CatalogView, uri: string, owner: ConnectorOwner): Promise<string> {
  const found = await view.resolveResource(uri, owner);
  if (found === 'ambiguous') throw new GatehouseError('mcp.ambiguous_resource', 'More than one server claims this resource URI.', 400, RpcCode.InvalidParams);
  if (!found) throw new GatehouseError('mcp.unknown_resource', `Resource not found: ${uri}`, 404, RpcCode.ResourceNotFound, { data: { uri } });
  return found.server;
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidParamsError('mcp.invalid_params', `"${field}" must be a non-empty string.`);
  return value;
}
