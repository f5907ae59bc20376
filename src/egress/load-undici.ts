type Undici = typeof import('undici');

let loading: Promise<Undici> | undefined;

/**
 * The npm undici (a second copy beside the one inside Node) costs ~30 MB resident. Only
 * remote upstreams and client-metadata fetches need its Agent, so it loads on first use
 * instead of with the gateway.
 */
export function loadUndici(): Promise<Undici> {
  loading ??= import('undici');
  return loading;
}
