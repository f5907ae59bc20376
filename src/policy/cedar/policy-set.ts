import { createHash } from 'node:crypto';
import { compilePolicy, type CompiledPolicy } from './compiled-policy.js';
import { DEFAULT_SCHEMA } from './default-schema.js';
import { PlainEvaluator } from './plain-evaluator.js';
import { SchemaModel, SchemaProblem } from './schema-model.js';
import { SlicedEvaluator } from './sliced-evaluator.js';
import { cedarWasm, type DetailedError } from './wasm.js';
import { POLICIES_PER_CHUNK, splitPolicyText } from './policy-chunks.js';

export interface SourceFile {
  /** Name shown in messages (relative to the policy folder). */
  name: string;
  text: string;
}

export interface PolicySetSource {
  /** `*.cedar` files, in the order they are loaded (policy-set order follows it). */
  files: readonly SourceFile[];
  /** The `*.cedarschema` file; the built-in schema when absent. */
  schema?: SourceFile | undefined;
}

export interface LoadProblem {
  file: string;
  line?: number | undefined;
  column?: number | undefined;
  message: string;
}

/** A policy folder that cannot be used. Every problem found is listed, with file:line:column. */
export class PolicyLoadError extends Error {
  constructor(readonly problems: readonly LoadProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PolicyLoadError';
  }
}

export function formatProblem(p: LoadProblem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}${p.column !== undefined ? `:${p.column}` : ''}` : ''}: ${p.message}`;
}

export const APPROVAL_LEVELS = ['none', 'confirm', 'four-eyes'] as const;
export type ApprovalLevel = (typeof APPROVAL_LEVELS)[number];
const REASON_ID = /^[a-z][a-z0-9_.-]{0,63}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$/;

/** Annotations Gatehouse reads; others are allowed and ignored. */
function checkAnnotations(annotations: Readonly<Record<string, string>>, where: (message: string) => void): void {
  const approval = annotations.approval;
  if (approval !== undefined && !(APPROVAL_LEVELS as readonly string[]).includes(approval))
    where(`@approval("${approval}") must be one of ${APPROVAL_LEVELS.map((l) => `"${l}"`).join(', ')}`);
  const reason = annotations.reason;
  if (reason !== undefined && !REASON_ID.test(reason))
    where(`@reason("${reason}") must be a lower-case identifier (letters, digits, _ . -), at most 64 characters`);
  const message = annotations.message;
  if (message !== undefined && (message.length === 0 || message.length > 300)) where('@message must be 1–300 characters');
  const id = annotations.id;
  if (id !== undefined && !ID.test(id)) where(`@id("${id}") may use letters, digits and _ . : / - (at most 128 characters)`);
}

/** Offset → 1-based line and column. */
function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

function problemsOf(file: SourceFile, errors: readonly DetailedError[], base = 0): LoadProblem[] {
  return errors.map((e) => {
    const at = e.sourceLocations?.[0];
    const pos = at ? position(file.text, base + at.start) : undefined;
    const label = at?.label ? ` (${at.label})` : '';
    return { file: file.name, line: pos?.line, column: pos?.column, message: `${e.message}${label}${e.help ? ` — ${e.help}` : ''}` };
  });
}

/** `policy0`, `policy1`, … sorted the way cedar-wasm sorts the parts it returns. */
function originalIndexes(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i).sort((a, b) => (`policy${a}` < `policy${b}` ? -1 : `policy${a}` > `policy${b}` ? 1 : 0));
}

/** The parts cedar-wasm returns (sorted by their generated ids), back in source order. */
function inSourceOrder(parts: readonly string[]): string[] {
  const order = originalIndexes(parts.length);
  const out: string[] = [];
  parts.forEach((text, k) => {
    out[order[k] as number] = text;
  });
  return out;
}

/**
 * The policy texts of a file in source order, parsed POLICIES_PER_CHUNK at a time (see
 * policy-chunks.ts: what one call parses is what Cedar's memory keeps). Undefined when the file
 * is one chunk or any chunk does not parse into static policies: the caller then parses the
 * whole file, so errors and their positions are Cedar's for the file as written.
 */
function chunkedPolicyTexts(text: string): string[] | undefined {
  const chunks = splitPolicyText(text);
  if (chunks === undefined || chunks.length < 2) return undefined;
  const texts: string[] = [];
  for (const chunk of chunks) {
    const parts = cedarWasm.policySetTextToParts(chunk);
    if (parts.type !== 'success' || parts.policy_templates.length > 0) return undefined;
    texts.push(...inSourceOrder(parts.policies));
  }
  return texts;
}

/**
 * A loaded, validated policy folder: the compiled policies, the schema model, and the sliced
 * evaluator. Immutable; a reload builds a new one and swaps it in whole.
 */
export class CompiledPolicySet {
  readonly sliced: SlicedEvaluator;
  #plain: PlainEvaluator | undefined;
  readonly #byId: Map<string, CompiledPolicy>;
  /** Context keys some policy reads (`approval` is looked up only when one does). */
  readonly contextKeys: Set<string> | 'all';

  constructor(
    readonly policies: readonly CompiledPolicy[],
    readonly schema: SchemaModel,
    /** SHA-256 over the sources, for the audit record of a (re)load. */
    readonly digest: string,
    readonly files: readonly string[],
  ) {
    this.sliced = new SlicedEvaluator(policies);
    this.#byId = new Map(policies.map((p) => [p.id, p]));
    let keys: Set<string> | 'all' = new Set();
    for (const p of policies) {
      if (p.facts.contextKeys === 'all') {
        keys = 'all';
        break;
      }
      for (const k of p.facts.contextKeys) keys.add(k);
    }
    this.contextKeys = keys;
  }

  /** Plain Cedar over the whole set (explain, tests, benchmarks). Parsed on first use. */
  get plain(): PlainEvaluator {
    this.#plain ??= new PlainEvaluator(this.policies);
    return this.#plain;
  }

  policy(id: string): CompiledPolicy | undefined {
    return this.#byId.get(id);
  }

  readsContext(key: string): boolean {
    return this.contextKeys === 'all' || this.contextKeys.has(key);
  }
}

/** Parses every file, checks annotations and ids, and validates all policies against the schema. */
export function compilePolicySet(source: PolicySetSource): CompiledPolicySet {
  const problems: LoadProblem[] = [];
  const schemaFile: SourceFile = source.schema ?? { name: '(built-in schema)', text: DEFAULT_SCHEMA };
  let schema: SchemaModel | undefined;
  const parsed = cedarWasm.checkParseSchema(schemaFile.text);
  if (parsed.type !== 'success') problems.push(...problemsOf(schemaFile, parsed.errors));
  else {
    try {
      schema = SchemaModel.parse(schemaFile.text);
    } catch (error) {
      if (!(error instanceof SchemaProblem)) throw error;
      problems.push(...error.problems.map((message) => ({ file: schemaFile.name, message })));
    }
  }

  const { policies, located } = parsePolicies(source.files, problems);

  if (schema && policies.length > 0 && problems.length === 0) {
    // Strict validation checks each policy against the schema on its own, so it is done a chunk
    // at a time, like parsing (what one call holds is what Cedar's memory keeps).
    for (let from = 0; from < policies.length; from += POLICIES_PER_CHUNK) {
      const record: Record<string, string> = {};
      for (const p of policies.slice(from, from + POLICIES_PER_CHUNK)) record[p.id] = p.text;
      const answer = cedarWasm.validate({ schema: schemaFile.text, policies: { staticPolicies: record }, validationSettings: { mode: 'strict' } });
      if (answer.type !== 'success') {
        problems.push(...answer.errors.map((e) => ({ file: schemaFile.name, message: e.message })));
        break;
      }
      for (const error of answer.validationErrors) {
        const at = policies.findIndex((p) => p.id === error.policyId);
        const where = located[at];
        if (where) problems.push(...problemsOf(where.file, [error.error], where.offset));
        else problems.push({ file: '(policies)', message: error.error.message });
      }
    }
  }
  if (problems.length > 0) throw new PolicyLoadError(problems);

  const digest = createHash('sha256');
  for (const file of [schemaFile, ...source.files]) digest.update(`${file.name}\n${file.text.length}\n${file.text}\n`);
  return new CompiledPolicySet(
    policies,
    schema as SchemaModel,
    `sha256:${digest.digest('hex')}`,
    source.files.map((f) => f.name),
  );
}

/**
 * Parses `*.cedar` files into compiled policies in source order (ids from `@id`, else
 * `file#n`), checking annotations and id uniqueness. Problems are appended to `problems`.
 * Schema validation is the caller's (compilePolicySet) job.
 */
export function parsePolicies(
  files: readonly SourceFile[],
  problems: LoadProblem[],
): { policies: CompiledPolicy[]; located: { file: SourceFile; offset: number }[] } {
  const policies: CompiledPolicy[] = [];
  const located: { file: SourceFile; offset: number }[] = [];
  const ids = new Map<string, string>();
  for (const file of files) {
    let texts = chunkedPolicyTexts(file.text);
    if (texts === undefined) {
      const parts = cedarWasm.policySetTextToParts(file.text);
      if (parts.type !== 'success') {
        problems.push(...problemsOf(file, parts.errors));
        continue;
      }
      if (parts.policy_templates.length > 0) {
        problems.push({ file: file.name, message: 'policy templates (?principal / ?resource slots) are not supported; write static policies' });
        continue;
      }
      texts = inSourceOrder(parts.policies);
    }
    let searchFrom = 0;
    texts.forEach((text, i) => {
      const offset = Math.max(0, file.text.indexOf(text, searchFrom));
      searchFrom = offset + text.length;
      const pos = position(file.text, offset);
      const where = `${file.name}:${pos.line}`;
      const json = cedarWasm.policyToJson(text);
      if (json.type !== 'success') {
        problems.push(...problemsOf(file, json.errors, offset));
        return;
      }
      const annotations = json.json.annotations ?? {};
      let bad = false;
      checkAnnotations(annotations, (message) => {
        bad = true;
        problems.push({ file: file.name, line: pos.line, message });
      });
      if (bad) return;
      const id = annotations.id ?? `${file.name}#${i + 1}`;
      const other = ids.get(id);
      if (other) {
        problems.push({ file: file.name, line: pos.line, message: `policy id "${id}" is already used at ${other}` });
        return;
      }
      ids.set(id, where);
      try {
        policies.push(compilePolicy(id, policies.length, text, json.json, where));
        located.push({ file, offset });
      } catch (error) {
        problems.push({ file: file.name, line: pos.line, message: (error as Error).message.replace(`${where}: `, '') });
      }
    });
  }

  return { policies, located };
}
