import { isIP } from 'node:net';
import { cedarWasm, type CedarValueJson } from './wasm.js';
import { REQUIRED_ACTIONS, REQUIRED_ENTITY_TYPES } from './default-schema.js';

/** A schema type with common-type names resolved. */
export type SchemaType =
  | { kind: 'String' }
  | { kind: 'Long' }
  | { kind: 'Bool' }
  | { kind: 'Set'; element: SchemaType }
  | { kind: 'Record'; attributes: Map<string, { type: SchemaType; required: boolean }> }
  | { kind: 'Entity'; name: string }
  | { kind: 'Extension'; name: string };

interface RawType {
  type: string;
  name?: string;
  element?: RawType;
  attributes?: Record<string, RawType & { required?: boolean }>;
}

interface RawNamespace {
  commonTypes?: Record<string, RawType>;
  entityTypes: Record<string, { memberOfTypes?: string[]; shape?: RawType }>;
  actions: Record<string, { memberOf?: unknown[]; appliesTo?: { context?: RawType } }>;
}

const EXTENSIONS = new Set(['ipaddr', 'decimal', 'datetime', 'duration']);

/**
 * What Gatehouse needs to know from a Cedar schema: that it declares Gatehouse's entity
 * model, the declared type of tool arguments (`context.args`), and the declared `User`
 * attributes (filled from token claims).
 */
export class SchemaModel {
  readonly args: SchemaType | undefined;
  readonly userAttributes: Map<string, { type: SchemaType; required: boolean }>;

  private constructor(private readonly ns: RawNamespace) {
    this.args = this.#contextAttribute('call', 'args');
    const user = ns.entityTypes.User?.shape;
    const resolved = user ? this.#resolve(user, 0) : undefined;
    this.userAttributes = resolved?.kind === 'Record' ? resolved.attributes : new Map();
  }

  /** Parses and checks `text`; throws with every problem found. */
  static parse(text: string): SchemaModel {
    const answer = cedarWasm.schemaToJsonWithResolvedTypes(text);
    if (answer.type !== 'success') throw new SchemaProblem(answer.errors.map((e) => e.message));
    const namespaces = answer.json as unknown as Record<string, RawNamespace>;
    const problems: string[] = [];
    for (const name of Object.keys(namespaces)) {
      if (name !== '') problems.push(`namespace "${name}": Gatehouse's entity types are not namespaced; declare them at the top level`);
    }
    const ns = namespaces[''];
    if (!ns) throw new SchemaProblem([...problems, 'the schema declares no entity types at the top level']);
    for (const type of REQUIRED_ENTITY_TYPES) if (!ns.entityTypes[type]) problems.push(`entity type ${type} is missing (Gatehouse's model needs it)`);
    for (const action of REQUIRED_ACTIONS) if (!ns.actions[action]) problems.push(`action "${action}" is missing (Gatehouse's model needs it)`);
    for (const [name, action] of Object.entries(ns.actions)) {
      // Requests carry no action hierarchy, so `action in Action::"group"` could never match.
      if (action.memberOf && action.memberOf.length > 0) problems.push(`action "${name}": action groups (memberOf) are not supported; list actions explicitly`);
    }
    if (problems.length > 0) throw new SchemaProblem(problems);
    return new SchemaModel(ns);
  }

  #contextAttribute(action: string, attribute: string): SchemaType | undefined {
    const context = this.ns.actions[action]?.appliesTo?.context;
    if (!context) return undefined;
    const resolved = this.#resolve(context, 0);
    return resolved.kind === 'Record' ? resolved.attributes.get(attribute)?.type : undefined;
  }

  #resolve(raw: RawType, depth: number): SchemaType {
    if (depth > 32) throw new SchemaProblem(['common types nest too deeply (or refer to themselves)']);
    switch (raw.type) {
      case 'String':
      case 'Long':
        return { kind: raw.type };
      case 'Bool':
      case 'Boolean':
        return { kind: 'Bool' };
      case 'Set':
        return { kind: 'Set', element: this.#resolve(raw.element as RawType, depth + 1) };
      case 'Record': {
        const attributes = new Map<string, { type: SchemaType; required: boolean }>();
        for (const [name, attr] of Object.entries(raw.attributes ?? {}))
          attributes.set(name, { type: this.#resolve(attr, depth + 1), required: attr.required !== false });
        return { kind: 'Record', attributes };
      }
      case 'Entity':
        return { kind: 'Entity', name: raw.name as string };
      case 'Extension':
        return { kind: 'Extension', name: raw.name as string };
      default: {
        const common = this.ns.commonTypes?.[raw.type];
        if (common) return this.#resolve(common, depth + 1);
        if (EXTENSIONS.has(raw.type)) return { kind: 'Extension', name: raw.type };
        if (this.ns.entityTypes[raw.type]) return { kind: 'Entity', name: raw.type };
        throw new SchemaProblem([`unknown type "${raw.type}"`]);
      }
    }
  }
}

export class SchemaProblem extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

const DECIMAL = /^-?\d{1,15}\.\d{1,4}$/;

function describe(type: SchemaType): string {
  switch (type.kind) {
    case 'String':
      return 'a string';
    case 'Long':
      return 'an integer';
    case 'Bool':
      return 'a boolean';
    case 'Set':
      return `an array of ${describe(type.element).replace(/^an? /, '')}s`;
    case 'Record':
      return 'an object';
    case 'Entity':
      return `an entity reference`;
    case 'Extension':
      return type.name === 'ipaddr' ? 'an IP address or CIDR string' : type.name === 'decimal' ? 'a decimal string with 1–4 fraction digits' : `a ${type.name}`;
  }
}

/** A JSON value that does not have its declared type. Message is safe for the agent. */
export class ArgumentTypeError extends Error {}

/**
 * Converts JSON to a Cedar value of the declared type, or throws ArgumentTypeError. Only
 * declared record attributes are kept: Cedar's validator refuses policies that read anything
 * else, so nothing else can matter — and nothing undeclared (e.g. `__entity` escapes) reaches
 * Cedar's parser.
 */
export function toDeclaredValue(value: unknown, type: SchemaType, path: string): CedarValueJson {
  const fail = (): never => {
    throw new ArgumentTypeError(`Argument "${path}" must be ${describe(type)} (policy schema).`);
  };
  switch (type.kind) {
    case 'String':
      return typeof value === 'string' ? value : fail();
    case 'Long':
      return typeof value === 'number' && Number.isSafeInteger(value) ? value : fail();
    case 'Bool':
      return typeof value === 'boolean' ? value : fail();
    case 'Set':
      if (!Array.isArray(value)) fail();
      return (value as unknown[]).map((item, i) => toDeclaredValue(item, type.element, `${path}[${i}]`));
    case 'Record': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail();
      const out: Record<string, CedarValueJson> = {};
      for (const [name, attr] of type.attributes) {
        const member = (value as Record<string, unknown>)[name];
        if (member === undefined || member === null) continue;
        out[name] = toDeclaredValue(member, attr.type, path ? `${path}.${name}` : name);
      }
      return out;
    }
    case 'Extension':
      if (typeof value !== 'string') fail();
      if (type.name === 'ipaddr') {
        const [address, prefix, ...rest] = (value as string).split('/');
        const family = isIP(address ?? '');
        const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
        if (family === 0 || !prefixOk || rest.length > 0) fail();
        return { __extn: { fn: 'ip', arg: value as string } };
      }
      if (type.name === 'decimal') return DECIMAL.test(value as string) ? { __extn: { fn: 'decimal', arg: value as string } } : fail();
      return fail();
    case 'Entity':
      return fail();
  }
}
