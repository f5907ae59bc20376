import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The house rules the code itself keeps: rooms (the top-level folders of src/) depend on each
 * other without cycles, and authorization decisions (src/policy/) know nothing of HTTP.
 * Imports are read from the source text, so a new file is checked the moment it exists.
 */

const SRC = path.dirname(fileURLToPath(import.meta.url));

/** Static imports, re-exports and dynamic imports with a literal specifier. */
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

export interface SourceImport {
  /** Path of the importing file, relative to src/. */
  from: string;
  /** The specifier as written. */
  specifier: string;
  /** The imported file relative to src/, for relative specifiers. */
  resolved: string | undefined;
}

export function importsOf(file: string, text: string): SourceImport[] {
  const found: SourceImport[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = (match[1] ?? match[2] ?? match[3]) as string;
    const resolved = specifier.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) : undefined;
    found.push({ from: file, specifier, resolved });
  }
  return found;
}

function sourceFiles(dir = SRC, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...sourceFiles(path.join(dir, entry.name), rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) files.push(rel);
  }
  return files;
}

/** The room of a file: its top-level folder under src/ (files directly in src/ are the composition root, not a room). */
export function roomOf(file: string): string | undefined {
  const slash = file.indexOf('/');
  return slash < 0 || file.startsWith('..') ? undefined : file.slice(0, slash);
}

/** Room → rooms it imports, with one example import per edge (for the failure message). */
export function roomGraph(imports: readonly SourceImport[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const i of imports) {
    const from = roomOf(i.from);
    const to = i.resolved === undefined ? undefined : roomOf(i.resolved);
    if (from === undefined || to === undefined || from === to) continue;
    let edges = graph.get(from);
    if (!edges) graph.set(from, (edges = new Map()));
    if (!edges.has(to)) edges.set(to, `${i.from} → ${i.specifier}`);
  }
  return graph;
}

/** Strongly connected components with more than one room (Tarjan), each sorted. */
export function roomCycles(graph: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (room: string): void => {
    index.set(room, next);
    low.set(room, next++);
    stack.push(room);
    onStack.add(room);
    for (const to of graph.get(room)?.keys() ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(room, Math.min(low.get(room) as number, low.get(to) as number));
      } else if (onStack.has(to)) low.set(room, Math.min(low.get(room) as number, index.get(to) as number));
    }
    if (low.get(room) === index.get(room)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== room);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const room of [...graph.keys()].sort()) if (!index.has(room)) visit(room);
  return cycles;
}

function describeCycle(graph: ReadonlyMap<string, ReadonlyMap<string, string>>, cycle: readonly string[]): string {
  const members = new Set(cycle);
  const edges: string[] = [];
  for (const from of cycle) for (const [to, example] of graph.get(from) ?? []) if (members.has(to)) edges.push(`  ${from} → ${to} (${example})`);
  return `cycle between ${cycle.join(', ')}:\n${edges.join('\n')}`;
}

const HTTP_SPECIFIERS = [/^hono(\/|$)/, /^@hono\//, /^node:http2?$/, /^node:https$/];
const HTTP_ROOMS = new Set(['http', 'mcp']);

/** Imports that would make an authorization decision depend on HTTP. */
export function policyHttpImports(imports: readonly SourceImport[]): SourceImport[] {
  return imports.filter((i) => {
    if (roomOf(i.from) !== 'policy') return false;
    if (i.resolved !== undefined) {
      const room = roomOf(i.resolved);
      return room !== undefined && HTTP_ROOMS.has(room);
    }
    return HTTP_SPECIFIERS.some((pattern) => pattern.test(i.specifier));
  });
}

describe('import rules', () => {
  const imports = sourceFiles().flatMap((file) => importsOf(file, readFileSync(path.join(SRC, file), 'utf8')));

  it('reads the imports of the whole tree', () => {
    // A parser that found nothing would pass every rule below.
    expect(imports.length).toBeGreaterThan(500);
    expect(imports.some((i) => i.from === 'mcp/router.ts' && i.specifier.includes('pipeline'))).toBe(true);
  });

  it('has no import cycle between rooms', () => {
    const graph = roomGraph(imports);
    expect(roomCycles(graph).map((cycle) => describeCycle(graph, cycle))).toEqual([]);
  });

  it('keeps HTTP out of policy decisions', () => {
    expect(policyHttpImports(imports).map((i) => `${i.from} → ${i.specifier}`)).toEqual([]);
  });
});

describe('the rule checks themselves', () => {
  it('finds static, type-only, re-exported, side-effect and dynamic imports', () => {
    const text = [
      "import { a } from '../audit/index.js';",
      "import type { B } from '../tokens/index.js';",
      "export { c } from './c.js';",
      "import './side-effect.js';",
      "const d = await import('../vault/index.js');",
      "import {\n  e,\n  f,\n} from 'hono';",
      'const s = \'from "nowhere"\';',
    ].join('\n');
    expect(importsOf('policy/x.ts', text).map((i) => i.resolved ?? i.specifier)).toEqual([
      'audit/index.js',
      'tokens/index.js',
      'policy/c.js',
      'policy/side-effect.js',
      'vault/index.js',
      'hono',
    ]);
  });

  it('reports a cycle through three rooms and not an acyclic graph', () => {
    const imports = (pairs: [string, string][]) => pairs.map(([from, to]) => ({ from, specifier: to, resolved: to }));
    expect(
      roomCycles(
        roomGraph(
          imports([
            ['a/x.ts', 'b/y.ts'],
            ['b/y.ts', 'c/z.ts'],
            ['c/z.ts', 'a/w.ts'],
            ['d/v.ts', 'a/x.ts'],
          ]),
        ),
      ),
    ).toEqual([['a', 'b', 'c']]);
    expect(
      roomCycles(
        roomGraph(
          imports([
            ['a/x.ts', 'b/y.ts'],
            ['b/y.ts', 'c/z.ts'],
            ['a/x.ts', 'a/w.ts'],
            ['gateway.ts', 'a/x.ts'],
            ['a/x.ts', 'version.ts'],
          ]),
        ),
      ),
    ).toEqual([]);
  });

  it('flags hono, node:http and the http and mcp rooms in policy, and nothing elsewhere', () => {
    const text =
      "import { Hono } from 'hono';\nimport { createServer } from 'node:http';\nimport { x } from '../http/app.js';\nimport { y } from '../mcp/router.js';\nimport { z } from '../tokens/index.js';\nimport { c } from 'node:crypto';";
    expect(policyHttpImports(importsOf('policy/x.ts', text)).map((i) => i.specifier)).toEqual(['hono', 'node:http', '../http/app.js', '../mcp/router.js']);
    expect(policyHttpImports(importsOf('vault/x.ts', text))).toEqual([]);
  });
});
