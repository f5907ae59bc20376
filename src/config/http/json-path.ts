/**
 * A small, linear-time subset of JSONPath (RFC 9535) for response field allow-lists:
 * `$`, `.name`, `['name']` / `["name"]`, `[index]`, `[*]` and `.*`. No filters, slices,
 * recursive descent or scripts: every step moves one level down, so applying a path costs at
 * most one visit per value in the document.
 */
export type JsonPathStep = { key: string } | { index: number } | { wildcard: true };

const MAX_PATH = 256;
const MAX_STEPS = 32;
const NAME_START = /[A-Za-z_$]/;
const NAME_CHAR = /[A-Za-z0-9_$-]/;

export function parseJsonPath(text: string): JsonPathStep[] {
  const fail = (why: string): never => {
    throw new SyntaxError(`JSONPath "${text.slice(0, 64)}": ${why} (supported: $.a.b, $.a[*].b, $['a'], $.a[0], $.*)`);
  };
  if (text.length > MAX_PATH) fail(`longer than ${MAX_PATH} characters`);
  if (!text.startsWith('$')) fail('must start with $');
  const steps: JsonPathStep[] = [];
  let i = 1;
  while (i < text.length) {
    if (steps.length >= MAX_STEPS) fail(`more than ${MAX_STEPS} steps`);
    const c = text[i];
    if (c === '.') {
      i++;
      if (text[i] === '*') {
        steps.push({ wildcard: true });
        i++;
        continue;
      }
      const start = i;
      if (!NAME_START.test(text[i] ?? '')) fail(`expected a name at position ${i}`);
      while (i < text.length && NAME_CHAR.test(text[i] as string)) i++;
      steps.push({ key: text.slice(start, i) });
    } else if (c === '[') {
      i++;
      const q = text[i];
      if (q === '*') {
        if (text[i + 1] !== ']') fail(`expected ] at position ${i + 1}`);
        steps.push({ wildcard: true });
        i += 2;
      } else if (q === "'" || q === '"') {
        const end = text.indexOf(q, i + 1);
        if (end < 0 || text[end + 1] !== ']') fail('unterminated quoted name');
        const key = text.slice(i + 1, end);
        if (key.includes('\\')) fail('escapes in quoted names are not supported');
        steps.push({ key });
        i = end + 2;
      } else {
        const start = i;
        while (i < text.length && text[i] !== undefined && (text[i] as string) >= '0' && (text[i] as string) <= '9') i++;
        if (i === start || i - start > 9 || text[i] !== ']') fail(`expected an index, *, or a quoted name at position ${start}`);
        steps.push({ index: Number(text.slice(start, i)) });
        i++;
      }
    } else {
      fail(`unexpected "${c}" at position ${i}`);
    }
  }
  return steps;
}

/**
 * The parts of `value` the paths select, in the document's shape: objects keep only selected
 * members, arrays only elements something was selected in (in order). Nothing selected:
 * undefined. Result objects have no prototype, so a `__proto__` member stays a member.
 */
export function selectJsonPaths(value: unknown, paths: readonly JsonPathStep[][]): unknown {
  return select(
    value,
    paths.map((p) => ({ steps: p, at: 0 })),
  );
}

interface Cursor {
  steps: JsonPathStep[];
  at: number;
}

function select(value: unknown, cursors: Cursor[]): unknown {
  if (cursors.length === 0) return undefined;
  if (cursors.some((c) => c.at === c.steps.length)) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((element, index) => {
      const next = advance(cursors, (step) => 'wildcard' in step || ('index' in step && step.index === index));
      const picked = select(element, next);
      if (picked !== undefined) out.push(picked);
    });
    return out.length > 0 ? out : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = Object.create(null);
    let any = false;
    for (const [key, member] of Object.entries(value)) {
      const next = advance(cursors, (step) => 'wildcard' in step || ('key' in step && step.key === key));
      const picked = select(member, next);
      if (picked !== undefined) {
        out[key] = picked;
        any = true;
      }
    }
    return any ? out : undefined;
  }
  return undefined;
}

function advance(cursors: Cursor[], matches: (step: JsonPathStep) => boolean): Cursor[] {
  const next: Cursor[] = [];
  for (const cursor of cursors) {
    const step = cursor.steps[cursor.at] as JsonPathStep;
    if (matches(step)) next.push({ steps: cursor.steps, at: cursor.at + 1 });
  }
  return next;
}
