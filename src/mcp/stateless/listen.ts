import type { JSONRPCMessage, JSONRPCNotification, RequestId } from '@modelcontextprotocol/sdk/types.js';

/** `_meta` key every message of a listen stream carries (subscriptions §receiving-notifications). */
export const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

/** The notifications a `subscriptions/listen` asks for (schema: SubscriptionFilter). */
export interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

/** The lists whose changes a listen stream may report, and the filter flag of each. */
export type ListKind = 'tools' | 'prompts' | 'resources';
const LIST_CHANGED: Readonly<Record<string, { kind: ListKind; flag: 'toolsListChanged' | 'promptsListChanged' | 'resourcesListChanged' }>> = {
  'notifications/tools/list_changed': { kind: 'tools', flag: 'toolsListChanged' },
  'notifications/prompts/list_changed': { kind: 'prompts', flag: 'promptsListChanged' },
  'notifications/resources/list_changed': { kind: 'resources', flag: 'resourcesListChanged' },
};

/** One stream may watch this many resources; each URI is bounded too. A bounded amount of work per listen. */
export const MAX_LISTEN_URIS = 64;
const MAX_URI_LENGTH = 2048;

/** The filter of a `subscriptions/listen`, or a message saying what is wrong with it. */
export function parseListenFilter(params: unknown): ListenFilter | string {
  const notifications = (params as { notifications?: unknown } | undefined)?.notifications;
  if (typeof notifications !== 'object' || notifications === null || Array.isArray(notifications)) return 'Invalid params: notifications must be an object';
  const given = notifications as Record<string, unknown>;
  const filter: ListenFilter = {};
  for (const flag of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
    if (given[flag] === undefined) continue;
    if (typeof given[flag] !== 'boolean') return `Invalid params: notifications.${flag} must be a boolean`;
    if (given[flag]) filter[flag] = true;
  }
  const uris = given.resourceSubscriptions;
  if (uris !== undefined) {
    if (!Array.isArray(uris) || !uris.every((u) => typeof u === 'string' && u.length > 0 && u.length <= MAX_URI_LENGTH)) {
      return `Invalid params: notifications.resourceSubscriptions must be a list of URIs of at most ${MAX_URI_LENGTH} characters`;
    }
    if (uris.length > MAX_LISTEN_URIS) return `Invalid params: one stream may watch at most ${MAX_LISTEN_URIS} resources`;
    filter.resourceSubscriptions = [...new Set(uris as string[])];
  }
  return filter;
}

/** Where a listen stream writes: the SSE stream of its `subscriptions/listen` POST. */
export interface ListenSink {
  write(data: string): boolean;
  end(): void;
  readonly closed: boolean;
}

/**
 * One open `subscriptions/listen`. It passes on only what it acknowledged, tagged with its
 * subscription id. A list change is passed on only when the caller's own filtered view of that
 * list changed: Gatehouse filters every list per caller, so a change the caller cannot see
 * (another server's tools, a tool policy hides from them) is not theirs to hear about.
 */
export class ListenStream {
  readonly #digests = new Map<ListKind, Promise<string>>();

  constructor(
    readonly subscriptionId: RequestId,
    /** What was acknowledged: only resources the caller could subscribe to, only list kinds asked for. */
    readonly filter: ListenFilter,
    private readonly sink: ListenSink,
    /** A digest of the caller's filtered view of a list, as a list request would return it now. */
    private readonly digest: (kind: ListKind) => Promise<string>,
  ) {
    for (const [kind, flag] of [
      ['tools', 'toolsListChanged'],
      ['prompts', 'promptsListChanged'],
      ['resources', 'resourcesListChanged'],
    ] as const) {
      if (filter[flag])
        this.#digests.set(
          kind,
          digest(kind).catch(() => ''),
        );
    }
  }

  get closed(): boolean {
    return this.sink.closed;
  }

  /** The acknowledgment, always the first message on the stream (subscriptions §acknowledgment). */
  acknowledge(): void {
    this.#write({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: this.filter } });
  }

  /** Offers a notification (already through the exit sanitizer) to this stream. */
  async offer(message: JSONRPCNotification): Promise<void> {
    if (this.closed) return;
    if (message.method === 'notifications/resources/updated') {
      const uri = (message.params as { uri?: unknown } | undefined)?.uri;
      if (typeof uri === 'string' && this.filter.resourceSubscriptions?.includes(uri)) this.#write(message);
      return;
    }
    const list = LIST_CHANGED[message.method];
    if (!list || !this.filter[list.flag]) return;
    const before = this.#digests.get(list.kind);
    const now = this.digest(list.kind).catch(() => '');
    this.#digests.set(list.kind, now);
    if ((await before) !== (await now)) this.#write(message);
  }

  /** Graceful closure (subscriptions §graceful-closure): the listen request's own response, then the end. */
  close(): void {
    if (this.closed) return;
    this.sink.write(
      JSON.stringify({ jsonrpc: '2.0', id: this.subscriptionId, result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID]: this.subscriptionId } } }),
    );
    this.sink.end();
  }

  #write(message: JSONRPCMessage): void {
    const params = ((message as { params?: Record<string, unknown> }).params ?? {}) as Record<string, unknown>;
    const meta = { ...((params._meta as Record<string, unknown> | undefined) ?? {}), [SUBSCRIPTION_ID]: this.subscriptionId };
    this.sink.write(JSON.stringify({ ...message, params: { ...params, _meta: meta } }));
  }
}

/**
 * The open listen streams of one stateless caller (one internal session). Notifications the
 * session's transport would have sent on a GET stream in the session era come here.
 */
export class ListenHub {
  readonly #streams = new Set<ListenStream>();

  add(stream: ListenStream): void {
    this.#streams.add(stream);
  }

  remove(stream: ListenStream): void {
    this.#streams.delete(stream);
  }

  get size(): number {
    return this.#streams.size;
  }

  /** URIs some other open stream of this caller still watches. */
  watched(except: ListenStream): Set<string> {
    const uris = new Set<string>();
    for (const stream of this.#streams) if (stream !== except && !stream.closed) for (const uri of stream.filter.resourceSubscriptions ?? []) uris.add(uri);
    return uris;
  }

  deliver(message: JSONRPCMessage): void {
    if (!('method' in message) || 'id' in message) return;
    for (const stream of this.#streams) void stream.offer(message as JSONRPCNotification);
  }

  closeAll(): void {
    for (const stream of this.#streams) stream.close();
    this.#streams.clear();
  }
}
