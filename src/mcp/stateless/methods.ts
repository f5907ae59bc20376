/**
 * The requests Gatehouse serves in the stateless revision. The revision removed `initialize`,
 * `ping`, `logging/setLevel` and `resources/subscribe`/`unsubscribe`; those and any method not
 * listed here are answered `404 Not Found` with `-32601 Method not found` (the revision's
 * Streamable HTTP transport), before anything is created or forwarded for them.
 * A method added to the stateless era is added here; with `subscriptions/listen` here,
 * `server/discover` claims `listChanged` and `subscribe` again (see discover.ts).
 */
export const MODERN_METHODS: ReadonlySet<string> = new Set([
  'server/discover',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
  'subscriptions/listen',
]);

/** Whether a request of the stateless revision names a method Gatehouse serves in it. */
export function isModernMethod(method: unknown): boolean {
  return typeof method === 'string' && MODERN_METHODS.has(method);
}
