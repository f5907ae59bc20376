import SwaggerParser from '@apidevtools/swagger-parser';
import { ConfigError } from '../../errors/index.js';
import { parsePathTemplate, pathTemplateProblem } from '../../config/http/path-template.js';
import type { HttpMethod, HttpToolSpec, ResponseRule } from './tool-spec.js';

const METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const MAX_DOCUMENT_OPERATIONS = 2000;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  description?: string;
  schema?: Record<string, unknown>;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  deprecated?: boolean;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; description?: string; content?: Record<string, { schema?: Record<string, unknown> }> };
}

export interface OpenApiSelection {
  include: readonly string[] | undefined;
  exclude: readonly string[];
  responseFor(tool: string): ResponseRule;
}

/** Headers an operation may not take from the agent: the connector or the auth provider sets them. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'traceparent',
  'tracestate',
  'x-gatehouse-actor',
  'x-gatehouse-request-id',
  'x-gatehouse-purpose',
]);

/**
 * Tools from an OpenAPI 3.0/3.1 document: parsed, validated and dereferenced by
 * swagger-parser with remote references switched off (loading a document never opens a
 * connection). Every operation with an operationId is a tool; its parameters (path, query,
 * header) and JSON request body (argument `body`) form the input schema.
 */
export async function loadOpenApiTools(file: string, selection: OpenApiSelection, where: string): Promise<{ tools: HttpToolSpec[]; skipped: string[] }> {
  let document: { openapi?: string; paths?: Record<string, Record<string, unknown>> };
  try {
    document = (await SwaggerParser.validate(file, {
      resolve: { http: false, external: true },
      dereference: { circular: 'ignore' },
    })) as typeof document;
  } catch (error) {
    throw invalid(where, `${where}: cannot load the OpenAPI document ${file}: ${(error as Error).message}`);
  }
  if (typeof document.openapi !== 'string' || !/^3\.[01]\./.test(document.openapi))
    throw invalid(where, `${where}: ${file} is not an OpenAPI 3.0 or 3.1 document (Swagger 2.0 is not supported)`);
  const include = selection.include ? new Set(selection.include) : undefined;
  const exclude = new Set(selection.exclude);
  const tools: HttpToolSpec[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  let count = 0;
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const shared = (item.parameters as Parameter[] | undefined) ?? [];
    for (const method of METHODS) {
      const operation = item[method.toLowerCase()] as Operation | undefined;
      if (!operation) continue;
      if (++count > MAX_DOCUMENT_OPERATIONS) throw invalid(where, `${where}: more than ${MAX_DOCUMENT_OPERATIONS} operations`);
      const id = operation.operationId;
      if (!id) {
        skipped.push(`${method} ${path}: no operationId`);
        continue;
      }
      if ((include && !include.has(id)) || exclude.has(id)) continue;
      if (seen.has(id)) throw invalid(where, `${where}: operationId ${id} is used twice`);
      seen.add(id);
      const problem = toolProblem(id, path, operation);
      if (problem) {
        skipped.push(`${id}: ${problem}`);
        continue;
      }
      tools.push(operationTool(where, id, method, path, mergeParameters(shared, operation.parameters ?? []), operation, selection.responseFor(id)));
    }
  }
  if (include) {
    const missing = [...include].filter((id) => !seen.has(id));
    if (missing.length > 0) throw invalid(where, `${where}: include names operations the document does not have: ${missing.join(', ')}`);
  }
  return { tools, skipped };
}

function invalid(where: string, message: string): ConfigError {
  return new ConfigError(message, [{ path: where, message }]);
}

function toolProblem(id: string, path: string, operation: Operation): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(id)) return 'the operationId is not a usable tool name (letters, digits, "-" and "_", at most 64)';
  const pathProblem = pathTemplateProblem(path);
  if (pathProblem) return pathProblem;
  const content = operation.requestBody?.content;
  if (content && !content['application/json'] && Object.keys(content).length > 0) return 'the request body is not application/json';
  return undefined;
}

/** Operation parameters override path-item ones with the same name and location. */
function mergeParameters(shared: Parameter[], own: Parameter[]): Parameter[] {
  const key = (p: Parameter) => `${p.in}:${p.name}`;
  const byKey = new Map(shared.map((p) => [key(p), p]));
  for (const p of own) byKey.set(key(p), p);
  return [...byKey.values()];
}

function operationTool(
  where: string,
  id: string,
  method: HttpMethod,
  path: string,
  parameters: Parameter[],
  operation: Operation,
  response: ResponseRule,
): HttpToolSpec {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const query: HttpToolSpec['query'] = [];
  const headers: HttpToolSpec['headers'] = [];
  for (const p of parameters) {
    if (p.in === 'cookie') continue;
    if (p.in === 'header' && RESERVED_HEADERS.has(p.name.toLowerCase())) continue;
    if (p.name in properties || p.name === 'body')
      throw invalid(where, `${where}: operation ${id}: two inputs are named "${p.name}" (parameters must have distinct names, "body" is the request body)`);
    properties[p.name] = { ...(p.schema ?? { type: 'string' }), ...(p.description ? { description: p.description } : {}) };
    if (p.required || p.in === 'path') required.push(p.name);
    if (p.in === 'query') query.push([p.name, { arg: p.name }]);
    if (p.in === 'header') headers.push([p.name, { arg: p.name }]);
  }
  const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
  if (operation.requestBody) {
    properties.body = { ...(bodySchema ?? {}), ...(operation.requestBody.description ? { description: operation.requestBody.description } : {}) };
    if (operation.requestBody.required) required.push('body');
  }
  const description = [operation.summary, operation.description].filter(Boolean).join('\n\n') || `${method} ${path}`;
  return {
    name: id,
    description: operation.deprecated ? `(deprecated) ${description}` : description,
    method,
    path: parsePathTemplate(path),
    inputSchema: { type: 'object', properties, ...(required.length > 0 ? { required } : {}) },
    query,
    headers,
    body: operation.requestBody ? { template: '{body}' } : undefined,
    readOnly: method === 'GET' || method === 'HEAD',
    response,
    source: 'openapi',
  };
}
