import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

/**
 * Delivers an inner transport's messages one after another through a promise chain.
 *
 * The SDK's Protocol handles notifications a microtask late but responses at once, so a
 * progress notification followed by the final response in the same read would find its
 * progress handler already removed and be dropped. Chaining deliveries lets each message's
 * handler run before the next message is looked at.
 */
export class OrderedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  #chain: Promise<void> = Promise.resolve();

  constructor(readonly inner: Transport) {}

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  start(): Promise<void> {
    this.inner.onmessage = (message, extra) => {
      this.#chain = this.#chain.then(() => this.onmessage?.(message, extra));
    };
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onclose = () => {
      // Close only after every message received before it has been delivered.
      void this.#chain.then(() => this.onclose?.());
    };
    return this.inner.start();
  }

  /** Delivers a message as if the inner transport had received it, in order with the rest. */
  inject(message: JSONRPCMessage): void {
    this.#chain = this.#chain.then(() => this.onmessage?.(message));
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
