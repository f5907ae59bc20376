import type pg from 'pg';
import { CHANGE_CHANNEL } from './migrations/0002-change-notify.js';

export interface ChangeListenerOptions {
  /** This node's id: notifications carrying it are its own writes and are not changes. */
  nodeId: string;
  newClient: () => pg.Client;
  /** First reconnect delay; doubles up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  onError?: (error: Error) => void;
}

/**
 * Holds one dedicated connection that LISTENs for change notifications from other nodes and
 * turns them into the "changed since you last asked" flag `Storage.externalChanges()` reads.
 *
 * Fails safe: while the connection is down notifications may be missed, so the flag reads
 * true on every ask (callers reload from the store, which is still the truth) until the
 * connection is back, and once more after it is (whatever was missed meanwhile).
 */
export class PostgresChangeListener {
  readonly #options: Required<Omit<ChangeListenerOptions, 'onError'>> & Pick<ChangeListenerOptions, 'onError'>;
  #client: pg.Client | undefined;
  #changed = false;
  #connected = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #backoff: number;
  /** Resolves when the first LISTEN is in place (or failed). */
  readonly ready: Promise<void>;

  constructor(options: ChangeListenerOptions) {
    this.#options = { backoffMs: 100, maxBackoffMs: 5000, ...options };
    this.#backoff = this.#options.backoffMs;
    this.ready = this.#connect();
  }

  /** True if another node committed a watched change (or notifications may have been missed) since the last call. */
  consume(): boolean {
    if (!this.#connected) return true;
    const changed = this.#changed;
    this.#changed = false;
    return changed;
  }

  get connected(): boolean {
    return this.#connected;
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = this.#options.newClient();
    this.#client = client;
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (error) this.#options.onError?.(error);
      this.#lost(client);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL && message.payload !== this.#options.nodeId) this.#changed = true;
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (lost || this.#closed) return;
      this.#connected = true;
      this.#backoff = this.#options.backoffMs;
    } catch (error) {
      onLost(error as Error);
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client === client) this.#client = undefined;
    const wasConnected = this.#connected;
    this.#connected = false;
    // Whatever arrived while down was missed: the first ask after reconnecting reports a change.
    this.#changed = true;
    void client.end().catch(() => undefined);
    if (this.#closed) return;
    const delay = wasConnected ? this.#options.backoffMs : this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, this.#options.maxBackoffMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, delay);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#connected = false;
    if (client) await client.end().catch(() => undefined);
  }
}
