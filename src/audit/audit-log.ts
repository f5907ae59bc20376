import { CompactSign, type CryptoKey } from 'jose';
import { capStrings, MAX_RECORDED_STRING, secrets, type Logger } from '../log/index.js';
import type { AuditStore, NewAuditEntry, StoredAuditRecord } from '../storage/index.js';
import type { KeyRing } from '../tokens/index.js';
import { AuditUnavailableError } from '../errors/index.js';
import { canonicalJson, canonicalJsonLenient } from './canonical-json.js';
import { linkRecord } from './chain.js';
import { scrubStrings } from './redact-arguments.js';
import type { AuditBody, AuditKindName } from './events.js';

export interface AuditLogSettings {
  /** Sign a checkpoint after this many records… */
  checkpointEvery: number;
  /** …or after this long with new records, whichever comes first. */
  checkpointIntervalMs: number;
  /**
   * Answer a call only once its outcome record is committed too (not just its intent). Set
   * for clusters: a node killed right after answering must not take the answered call's
   * outcome with it. Costs one more round trip per call batch.
   */
  durableOutcomes?: boolean;
}

/**
 * How long a record that nobody waits for (an outcome, a list, a denial) may sit in memory
 * before it is written on its own. Usually the next durable intent carries it to disk first,
 * so a call costs one fsync, not two.
 */
const LAZY_FLUSH_MS = 20;

/** Told about every record appended and every group commit (metrics). Must be cheap and must not throw. */
export interface AuditObserver {
  appended?(kind: AuditKindName, body: AuditBody): void;
  committed?(records: number, seconds: number, ok: boolean): void;
}

interface Pending {
  durable: boolean;
  entry: NewAuditEntry;
  resolve: (record: StoredAuditRecord) => void;
  reject: (error: Error) => void;
}

/**
 * The tamper-evident audit log. Appends are group-committed: every record queued in the same
 * turn of the event loop goes to disk in one transaction (one fsync), and `append(…, {durable:
 * true})` resolves only after that commit. Callers that must not act before their intent is
 * recorded (every upstream call) await it; result records ride along with the next batch.
 */
export class AuditLog {
  #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #immediate = false;
  #lazyTimer: NodeJS.Timeout | undefined;
  #durableQueued = 0;
  #sinceCheckpoint = 0;
  #lastCheckpointAt = Date.now();
  #lastRecord: StoredAuditRecord | undefined;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #failed: Error | undefined;
  #closed = false;
  #observer: AuditObserver | undefined;

  constructor(
    private readonly store: AuditStore,
    private readonly keys: KeyRing,
    private readonly log: Logger,
    private readonly settings: AuditLogSettings,
  ) {}

  /** Starts the periodic checkpoint timer (the gateway does; one-shot CLI commands need not). */
  startCheckpointTimer(): void {
    this.#checkpointTimer = setInterval(
      () => {
        if (this.#sinceCheckpoint > 0 && Date.now() - this.#lastCheckpointAt >= this.settings.checkpointIntervalMs) {
          void this.checkpoint().catch((error: unknown) => this.log.error({ err: error }, 'audit checkpoint failed'));
        }
      },
      Math.min(this.settings.checkpointIntervalMs, 60_000),
    );
    this.#checkpointTimer.unref();
  }

  /** Sets the one observer of appends and commits. */
  observe(observer: AuditObserver): void {
    this.#observer = observer;
  }

  /** Whether outcome records are committed before the call is answered (see AuditLogSettings). */
  get durableOutcomes(): boolean {
    return this.settings.durableOutcomes === true;
  }

  /** True while the last write failed; calls are refused until a write succeeds again. */
  get healthy(): boolean {
    return this.#failed === undefined;
  }

  /**
   * Queues a record. The body's long strings are cut (MAX_RECORDED_STRING), it is scrubbed of
   * registered secrets, serialized canonically and chained at commit. With `durable`, resolves after the commit; otherwise resolves at once
   * (the record still commits with the next batch).
   */
  append(kind: AuditKindName, body: AuditBody, options: { durable: boolean }): Promise<StoredAuditRecord | undefined> {
    if (this.#closed) return Promise.reject(new AuditUnavailableError({ detail: { reason: 'audit log closed' } }));
    this.#observer?.appended?.(kind, body);
    const entry: NewAuditEntry = { ts: Date.now(), kind, body: this.#serialize(kind, body) };
    const done = new Promise<StoredAuditRecord>((resolve, reject) => this.#queue.push({ durable: options.durable, entry, resolve, reject }));
    if (options.durable) this.#durableQueued++;
    this.#schedule();
    if (options.durable) return done;
    done.catch(() => undefined);
    return Promise.resolve(undefined);
  }

  /**
   * The record's canonical text, scrubbed. Never throws on what a body holds, so a refusal is
   * recorded even when the request carried values with no JSON form (a client's `1e400`,
   * nesting past the canonical depth): those are written as descriptions instead.
   */
  #serialize(kind: string, rawBody: AuditBody): string {
    // Strings a client or upstream chose (a tool name, an error message) are cut to a bounded
    // length first, so the record, and the scrub below, stay small whatever was sent.
    const body = capStrings(rawBody, MAX_RECORDED_STRING, secrets.cut);
    let text: string;
    try {
      text = canonicalJson(body);
    } catch (error) {
      this.log.warn({ kind, err: (error as Error).message }, 'audit record held values with no JSON form; they are recorded as descriptions');
      text = canonicalJsonLenient(body);
    }
    // Scrubbing the serialized text would be cheapest but could break JSON; the deep, per-string
    // scrub is only needed when the text holds something to redact (rare). It works on the
    // parsed canonical text, which is plain, finite and depth-bounded whatever the body was.
    return secrets.scrub(text) === text ? text : canonicalJson(scrubStrings(JSON.parse(text)));
  }

  /** Resolves once everything queued so far is on disk. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing) {
      if (this.#flushing) await this.#flushing;
      else await this.#runFlush();
    }
  }

  /**
   * Someone waits for a durable record: flush at the end of this I/O turn (setImmediate, not a
   * microtask, so every request that arrived in the turn joins the batch). Only lazy records:
   * flush after LAZY_FLUSH_MS unless a durable one takes them along first.
   */
  #schedule(): void {
    if (this.#flushing || this.#queue.length === 0) return;
    if (this.#durableQueued > 0) {
      if (this.#immediate) return;
      if (this.#lazyTimer) clearTimeout(this.#lazyTimer);
      this.#lazyTimer = undefined;
      this.#immediate = true;
      setImmediate(() => {
        this.#immediate = false;
        void this.#runFlush();
      });
    } else if (!this.#lazyTimer && !this.#immediate) {
      this.#lazyTimer = setTimeout(() => {
        this.#lazyTimer = undefined;
        void this.#runFlush();
      }, LAZY_FLUSH_MS);
      this.#lazyTimer.unref();
    }
  }

  #runFlush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    this.#flushing = this.#commitBatch().finally(() => {
      this.#flushing = undefined;
      if (this.#queue.length > 0) this.#schedule();
    });
    return this.#flushing;
  }

  async #commitBatch(): Promise<void> {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    this.#durableQueued = 0;
    let stored: StoredAuditRecord[];
    const started = this.#observer?.committed ? performance.now() : 0;
    try {
      stored = await this.store.appendChained(
        batch.map((p) => p.entry),
        linkRecord,
      );
      this.#observer?.committed?.(batch.length, (performance.now() - started) / 1000, true);
    } catch (cause) {
      this.#observer?.committed?.(batch.length, (performance.now() - started) / 1000, false);
      const error = new AuditUnavailableError({ cause, detail: { error: (cause as Error).message } });
      if (!this.#failed) this.log.error({ err: cause }, 'audit write failed: refusing calls until the audit log is writable again');
      this.#failed = error;
      for (const p of batch) p.reject(error);
      return;
    }
    if (this.#failed) this.log.warn('audit log writable again');
    this.#failed = undefined;
    for (let i = 0; i < batch.length; i++) (batch[i] as Pending).resolve(stored[i] as StoredAuditRecord);
    this.#lastRecord = stored[stored.length - 1];
    this.#sinceCheckpoint += stored.length;
    if (this.#sinceCheckpoint >= this.settings.checkpointEvery) {
      void this.checkpoint().catch((error: unknown) => this.log.error({ err: error }, 'audit checkpoint failed'));
    }
  }

  /** Signs the current head (seq, hash) with the audit key and stores the checkpoint. */
  async checkpoint(): Promise<void> {
    const head = this.#lastRecord ?? (await this.store.head());
    if (!head) return;
    this.#sinceCheckpoint = 0;
    this.#lastCheckpointAt = Date.now();
    const { kid, key } = this.keys.signingKey();
    const ts = Date.now();
    const signature = await signCheckpoint(key, kid, { seq: head.seq, hash: head.hash, ts });
    await this.store.addCheckpoint({ seq: head.seq, ts, hash: head.hash, kid, signature });
  }

  /** Flushes, writes a final checkpoint, and refuses further appends. */
  async close(): Promise<void> {
    if (this.#checkpointTimer) clearInterval(this.#checkpointTimer);
    if (this.#lazyTimer) clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    await this.flush();
    if (this.#sinceCheckpoint > 0) await this.checkpoint().catch((error: unknown) => this.log.error({ err: error }, 'final audit checkpoint failed'));
    this.#closed = true;
  }
}

export interface CheckpointPayload {
  seq: number;
  hash: string;
  ts: number;
}

export async function signCheckpoint(key: CryptoKey, kid: string, payload: CheckpointPayload): Promise<string> {
  return new CompactSign(new TextEncoder().encode(canonicalJson(payload)))
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'gatehouse-audit-checkpoint+jws' })
    .sign(key);
}
