import { describe, expect, it } from 'vitest';
import { splitPolicyText } from './policy-chunks.js';
import { compilePolicySet, parsePolicies, PolicyLoadError, type LoadProblem } from './policy-set.js';
import { cedarWasm } from './wasm.js';

const permit = (i: number, extra = '') => `@id("p${i}")\npermit (principal, action == Action::"call", resource)${extra};\n`;

describe('splitPolicyText', () => {
  it('cuts after every n-th top-level semicolon and loses nothing', () => {
    const text = Array.from({ length: 7 }, (_, i) => permit(i)).join('');
    const chunks = splitPolicyText(text, 3) as string[];
    expect(chunks.join('')).toBe(text);
    expect(chunks.map((c) => (c.match(/permit/g) ?? []).length)).toEqual([3, 3, 1]);
    expect(splitPolicyText(text, 7)).toEqual([text]);
  });

  it('never cuts inside a string literal, escaped quotes and backslashes included', () => {
    const text = [
      permit(0, ' when { context.note == "a;b" }'),
      permit(1, ' when { context.note == "quote \\" ; still inside" }'),
      permit(2, ' when { context.note == "ends in backslash \\\\" }'),
      permit(3, ' when { context.note like "*;*" }'),
    ].join('');
    const chunks = splitPolicyText(text, 1) as string[];
    expect(chunks).toHaveLength(4);
    expect(chunks.join('')).toBe(text);
    for (const chunk of chunks) expect(cedarWasm.policySetTextToParts(chunk).type).toBe('success');
  });

  it('never cuts inside a line comment, so a commented-out policy stays commented out', () => {
    const text = `${permit(0)}// forbid (principal, action, resource); permit (principal, action, resource);\n${permit(1)}`;
    const chunks = splitPolicyText(text, 1) as string[];
    expect(chunks.join('')).toBe(text);
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toContain('// forbid (principal, action, resource); permit');
    // `//` inside a string is not a comment: the `;` after the string still ends the policy.
    const url = permit(2, ' when { context.url == "https://x" }') + permit(3);
    expect(splitPolicyText(url, 1)).toHaveLength(2);
  });

  it('gives up on an unterminated string (Cedar then reports it for the whole file)', () => {
    expect(splitPolicyText(`${permit(0)}permit (principal, action, resource) when { context.a == "open ; }`, 1)).toBeUndefined();
  });

  it('keeps what follows the last semicolon, and returns a text without one whole', () => {
    expect(splitPolicyText(`${permit(0)}// trailing comment\n`, 1)).toEqual([`${permit(0)}// trailing comment\n`]);
    expect(splitPolicyText(`${permit(0)}${permit(1)}// end\n`, 1)).toEqual([permit(0).slice(0, -1), `\n${permit(1)}// end\n`]);
    expect(splitPolicyText('  // nothing here\n', 1)).toEqual(['  // nothing here\n']);
    expect(splitPolicyText('', 5)).toEqual(['']);
  });

  it('rejects a chunk size that is not a positive integer', () => {
    expect(() => splitPolicyText('x;', 0)).toThrow(RangeError);
    expect(() => splitPolicyText('x;', 1.5)).toThrow(RangeError);
  });
});

describe('parsing and validating a large file a chunk at a time', () => {
  /** 130 policies (three chunks) with strings and comments holding semicolons. */
  const big = Array.from({ length: 130 }, (_, i) =>
    i % 3 === 0 ? `// policy ${i}; not a statement\n${permit(i, ` when { "t;${i}\\"" == "t;${i}\\"" }`)}` : permit(i),
  ).join('');

  it('finds the same policies, in the same order, as one parse of the whole file', () => {
    const problems: LoadProblem[] = [];
    const { policies } = parsePolicies([{ name: 'big.cedar', text: big }], problems);
    expect(problems).toEqual([]);
    const whole = cedarWasm.policySetTextToParts(big);
    if (whole.type !== 'success') throw new Error('fixture does not parse');
    expect(policies.map((p) => p.id)).toEqual(Array.from({ length: 130 }, (_, i) => `p${i}`));
    expect(new Set(policies.map((p) => p.text))).toEqual(new Set(whole.policies));
  });

  it("reports a syntax error in a later chunk at the file's own line, from Cedar's parse of the whole file", () => {
    const broken = `${big}@id("bad")\npermit (principal, action, resource) when { 1 + };\n`;
    const problems: LoadProblem[] = [];
    const { policies } = parsePolicies([{ name: 'big.cedar', text: broken }], problems);
    expect(policies).toEqual([]);
    expect(problems.length).toBeGreaterThan(0);
    const line = broken.slice(0, broken.indexOf('@id("bad")')).split('\n').length + 1;
    expect(problems[0]).toMatchObject({ file: 'big.cedar', line });
  });

  it('reports a schema violation in a later validation chunk against the right policy', () => {
    const wrong = `${big}@id("late")\npermit (principal, action == Action::"call", resource) when { context.nope == 1 };\n`;
    const error = (() => {
      try {
        compilePolicySet({ files: [{ name: 'big.cedar', text: wrong }] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PolicyLoadError);
    const problems = (error as PolicyLoadError).problems;
    expect(problems).toHaveLength(1);
    const line = wrong.slice(0, wrong.indexOf('@id("late")')).split('\n').length + 1;
    expect(problems[0]).toMatchObject({ file: 'big.cedar', line });
    // Without the bad policy the same file compiles: the chunks themselves are valid.
    expect(compilePolicySet({ files: [{ name: 'big.cedar', text: big }] }).policies).toHaveLength(130);
  });
});
