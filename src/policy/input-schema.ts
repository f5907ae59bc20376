import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { linearRegExp } from './linear-regexp.js';

/** Why a tool's arguments were not accepted, in words safe for the agent. */
export type InputCheck = { ok: true } | { ok: false; kind: 'invalid'; message: string } | { ok: false; kind: 'unusable_schema'; message: string };

const MAX_ERRORS = 5;

/** `code.regExp`: upstream patterns run on RE2, in linear time (see linear-regexp.ts). */
const AJV_OPTIONS = { strict: false, allErrors: true, validateFormats: false, code: { regExp: linearRegExp } } as const;

/**
 * Validates tool arguments against the tool's `inputSchema` before any policy sees them. MCP
 * 2025-11-25: the schema is JSON Schema 2020-12 unless its `$schema` names another dialect;
 * 2019-09 and draft-07 (what older SDKs emit) are supported too. `format` is an annotation
 * (the 2020-12 default). A schema that cannot be compiled — an unknown dialect, a remote
 * `$ref`, a `pattern` RE2 cannot run — makes the call fail closed: arguments that cannot be
 * checked are not forwarded.
 */
export class InputSchemaValidator {
  readonly #compiled = new WeakMap<object, ValidateFunction | Error>();
  readonly #ajv2020 = new Ajv2020(AJV_OPTIONS);
  readonly #ajv2019 = new Ajv2019(AJV_OPTIONS);
  readonly #ajv07 = new Ajv(AJV_OPTIONS);

  check(tool: string, schema: object | undefined, args: unknown): InputCheck {
    if (!schema) return { ok: true };
    let validate = this.#compiled.get(schema);
    if (!validate) {
      validate = this.#compile(schema);
      this.#compiled.set(schema, validate);
    }
    if (validate instanceof Error)
      return {
        ok: false,
        kind: 'unusable_schema',
        message: `The tool "${tool}" declares an input schema Gatehouse cannot check (${validate.message}), so the call was refused.`,
      };
    if (validate(args)) return { ok: true };
    const errors = (validate.errors ?? []).slice(0, MAX_ERRORS).map((e) => {
      const where = e.instancePath ? `arguments${e.instancePath.replace(/\//g, '.')}` : 'arguments';
      const extra = e.keyword === 'additionalProperties' ? ` ("${String((e.params as { additionalProperty?: unknown }).additionalProperty)}")` : '';
      return `${where} ${e.message ?? 'is invalid'}${extra}`;
    });
    const more = (validate.errors?.length ?? 0) > MAX_ERRORS ? `; and ${(validate.errors?.length ?? 0) - MAX_ERRORS} more` : '';
    return { ok: false, kind: 'invalid', message: `Invalid arguments for tool "${tool}": ${errors.join('; ')}${more}.` };
  }

  #compile(schema: object): ValidateFunction | Error {
    const dialect = (schema as { $schema?: unknown }).$schema;
    // Each compile registers the schema's $id in the instance: compile a copy without it,
    // so two tools with the same $id do not collide.
    const { $id: _id, ...rest } = schema as Record<string, unknown>;
    try {
      if (dialect === undefined || (typeof dialect === 'string' && dialect.includes('2020-12'))) return this.#ajv2020.compile(rest);
      if (typeof dialect === 'string' && dialect.includes('2019-09')) return this.#ajv2019.compile(rest);
      if (typeof dialect === 'string' && /draft-0[67]/.test(dialect)) return this.#ajv07.compile(rest);
      return new Error(`unsupported dialect ${JSON.stringify(dialect)}`);
    } catch (error) {
      return new Error((error as Error).message.split('\n')[0] as string);
    }
  }
}
