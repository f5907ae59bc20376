import type { PostgresParamConfig, PostgresStatementConfig } from '../../config/index.js';
import { InvalidParamsError } from '../../errors/index.js';
import { refuseNul } from './sql-guard.js';

/** Limits of the `query` tool's own arguments. */
export const MAX_QUERY_SQL = 20_000;
export const MAX_QUERY_PARAMS = 100;
const DEFAULT_MAX_STRING = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

export type JsonSchema = Record<string, unknown>;

function paramSchema(param: PostgresParamConfig): JsonSchema {
  const base: JsonSchema = param.description ? { description: param.description } : {};
  const nullable = (schema: JsonSchema): JsonSchema => (param.required ? schema : { ...schema, type: [schema.type as string, 'null'] });
  switch (param.type) {
    case 'string':
      return nullable({ ...base, type: 'string', maxLength: param.maxLength ?? DEFAULT_MAX_STRING, ...(param.enum ? { enum: param.enum } : {}) });
    case 'integer':
    case 'number':
      return nullable({
        ...base,
        type: param.type,
        ...(param.minimum !== undefined ? { minimum: param.minimum } : {}),
        ...(param.maximum !== undefined ? { maximum: param.maximum } : {}),
        ...(param.enum ? { enum: param.enum } : {}),
      });
    case 'boolean':
      return nullable({ ...base, type: 'boolean' });
    case 'uuid':
      return nullable({ ...base, type: 'string', format: 'uuid' });
    case 'timestamp':
      return nullable({ ...base, type: 'string', format: 'date-time' });
    case 'json':
      return { ...base };
  }
}

/** The inputSchema of a declared statement's tool: exactly its parameters, nothing else. */
export function statementInputSchema(statement: PostgresStatementConfig): JsonSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(statement.params.map((p) => [p.name, paramSchema(p)])),
    required: statement.params.filter((p) => p.required).map((p) => p.name),
    additionalProperties: false,
  };
}

function invalid(message: string): InvalidParamsError {
  return new InvalidParamsError('postgres.invalid_arguments', message);
}

function checkValue(param: PostgresParamConfig, value: unknown): unknown {
  const name = param.name;
  if (value === null) {
    if (param.required) throw invalid(`"${name}" may not be null.`);
    return null;
  }
  switch (param.type) {
    case 'string': {
      if (typeof value !== 'string') throw invalid(`"${name}" must be a string.`);
      const max = param.maxLength ?? DEFAULT_MAX_STRING;
      if (value.length > max) throw invalid(`"${name}" is longer than ${max} characters.`);
      if (value.includes('\u0000')) throw invalid(`"${name}" contains a NUL character.`);
      if (param.enum && !param.enum.includes(value)) throw invalid(`"${name}" must be one of ${param.enum.map((v) => JSON.stringify(v)).join(', ')}.`);
      return value;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`"${name}" must be ${param.type === 'integer' ? 'an integer' : 'a number'}.`);
      if (param.type === 'integer' && !Number.isSafeInteger(value)) throw invalid(`"${name}" must be an integer.`);
      if (param.minimum !== undefined && value < param.minimum) throw invalid(`"${name}" must be at least ${param.minimum}.`);
      if (param.maximum !== undefined && value > param.maximum) throw invalid(`"${name}" must be at most ${param.maximum}.`);
      if (param.enum && !param.enum.includes(value)) throw invalid(`"${name}" must be one of ${param.enum.join(', ')}.`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(`"${name}" must be true or false.`);
      return value;
    case 'uuid':
      if (typeof value !== 'string' || !UUID.test(value)) throw invalid(`"${name}" must be a UUID.`);
      return value;
    case 'timestamp':
      if (typeof value !== 'string' || !TIMESTAMP.test(value) || Number.isNaN(Date.parse(value.replace(' ', 'T'))))
        throw invalid(`"${name}" must be an ISO 8601 timestamp.`);
      return value;
    case 'json':
      return JSON.stringify(value);
  }
}

/**
 * Validates a declared statement's arguments and returns them in placeholder order. Values are
 * always bound as parameters ($1, $2, …): the statement text never changes with the input.
 */
export function bindStatementArgs(statement: PostgresStatementConfig, args: Record<string, unknown>): unknown[] {
  const known = new Set(statement.params.map((p) => p.name));
  const unknown = Object.keys(args).filter((k) => !known.has(k));
  if (unknown.length > 0) throw invalid(`Unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => `"${k.slice(0, 64)}"`).join(', ')}.`);
  return statement.params.map((param) => {
    if (!(param.name in args) || args[param.name] === undefined) {
      if (param.required) throw invalid(`"${param.name}" is required.`);
      return null;
    }
    return checkValue(param, args[param.name]);
  });
}

export type QueryParam = string | number | boolean | null;

export const QUERY_INPUT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    sql: { type: 'string', description: 'One SELECT statement. Use $1, $2, … placeholders for values.', maxLength: MAX_QUERY_SQL },
    params: {
      type: 'array',
      description: 'Values for the $n placeholders, in order.',
      items: { type: ['string', 'number', 'boolean', 'null'] },
      maxItems: MAX_QUERY_PARAMS,
    },
  },
  required: ['sql'],
  additionalProperties: false,
};

export function parseQueryArgs(args: Record<string, unknown>): { sql: string; params: QueryParam[] } {
  const extra = Object.keys(args).filter((k) => k !== 'sql' && k !== 'params');
  if (extra.length > 0) throw invalid(`Unknown argument: "${(extra[0] as string).slice(0, 64)}".`);
  const { sql, params = [] } = args;
  if (typeof sql !== 'string') throw invalid('"sql" must be a string.');
  if (sql.length > MAX_QUERY_SQL) throw invalid(`"sql" is longer than ${MAX_QUERY_SQL} characters.`);
  // The NUL character ends a C string: the parser, the driver and the server could each read a
  // different prefix of the text. PostgreSQL's text types cannot hold it either.
  refuseNul(sql, 'The SQL');
  if (!Array.isArray(params)) throw invalid('"params" must be an array.');
  if (params.length > MAX_QUERY_PARAMS) throw invalid(`At most ${MAX_QUERY_PARAMS} params.`);
  for (const [i, p] of params.entries()) {
    if (p !== null && typeof p !== 'string' && typeof p !== 'boolean' && !(typeof p === 'number' && Number.isFinite(p)))
      throw invalid('Each of "params" must be a string, number, boolean or null.');
    if (typeof p === 'string') refuseNul(p, `Parameter $${i + 1}`);
  }
  return { sql, params: params as QueryParam[] };
}

export const DESCRIBE_INPUT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    schema: { type: 'string', description: 'Only this schema.', maxLength: 63 },
    table: { type: 'string', description: 'Only this table.', maxLength: 63 },
  },
  additionalProperties: false,
};

export function parseDescribeArgs(args: Record<string, unknown>): { schema: string | null; table: string | null } {
  const extra = Object.keys(args).filter((k) => k !== 'schema' && k !== 'table');
  if (extra.length > 0) throw invalid(`Unknown argument: "${(extra[0] as string).slice(0, 64)}".`);
  const pick = (key: 'schema' | 'table'): string | null => {
    const v = args[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || v.length > 63) throw invalid(`"${key}" must be a name of at most 63 characters.`);
    refuseNul(v, `"${key}"`);
    return v;
  };
  return { schema: pick('schema'), table: pick('table') };
}
