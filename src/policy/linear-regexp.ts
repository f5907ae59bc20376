import { RE2JS } from 're2js';
import type { RegExpEngine } from 'ajv/dist/types/index.js';

/**
 * The regular-expression engine Ajv uses for `pattern`, `patternProperties` and
 * `propertyNames` in tool input schemas. Those patterns come from upstream servers, which
 * Gatehouse does not trust, and run against arguments from the agent, which it does not trust
 * either: with V8's backtracking engine one `^(a+)+$` from an upstream and a few kilobytes from
 * an agent would stall the whole gateway. RE2 matches in time linear in the input whatever the
 * pattern. Patterns RE2 cannot express (lookaround, backreferences) fail to compile, and the
 * validator then refuses calls to that tool rather than forwarding unchecked arguments.
 */
export const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const compiled = RE2JS.compile(pattern);
    return {
      // JSON Schema `pattern` is a search, not a whole-string match (ECMA-262 `test`).
      test: (text: string) => compiled.matcher(text).find(),
      // Ajv keys its cache of compiled patterns on this string: it must name the pattern, or
      // every pattern would share the first one compiled.
      toString: () => `/${pattern}/${flags}`,
    };
  },
  // Only used when Ajv generates standalone code, which Gatehouse never does.
  { code: 'linearRegExp' },
);
