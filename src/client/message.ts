// A message received by a Consumer, with go-nsq's responses: finish (FIN),
// requeue (REQ, with or without backoff) and touch (TOUCH).
import { decodeAscii } from "../protocol/text.ts";

/** Where a message's responses go (the consumer's connection). */
export interface MessageResponder {
  finish(message: Message): void;
  requeue(message: Message, delayMs: number, backoff: boolean): void;
  touch(message: Message): void;
}

/**
 * A message a Consumer's handler receives. The consumer FINishes it when the
 * handler returns and REQueues it when the handler throws, unless the
 * handler responds itself.
 *
 * @example
 * ```ts
 * consumer.addHandler((message) => {
 *   if (message.attempts > 3) return; // give up: FIN
 *   message.disableAutoResponse();
 *   const keepAlive = setInterval(() => message.touch(), 30_000);
 *   work(message.body).then(
 *     () => message.finish(),
 *     () => message.requeue(10_000),
 *   ).finally(() => clearInterval(keepAlive));
 * });
 * ```
 */
export class Message {
  /** The 16 id bytes as received. */
  readonly id: Uint8Array;
  /** The body bytes (a view of received data: copy it to keep it past the handler, or use it as is). */
  readonly body: Uint8Array;
  /** Publish time in Unix nanoseconds (rounded to a double). */
  readonly timestamp: number;
  /** Deliveries so far, this one included (D-TCP-MSG). */
  readonly attempts: number;
  /** `host:port` of the nsqd that delivered it. */
  readonly nsqdAddress: string;
  #responder: MessageResponder;
  #responded = false;
  #autoResponse = true;

  constructor(id: Uint8Array, body: Uint8Array, timestamp: number, attempts: number, nsqdAddress: string, responder: MessageResponder) {
    this.id = id;
    this.body = body;
    this.timestamp = timestamp;
    this.attempts = attempts;
    this.nsqdAddress = nsqdAddress;
    this.#responder = responder;
  }

  /** The id as text (16 hex characters). */
  get idString(): string {
    return decodeAscii(this.id);
  }

  /** The handler will respond itself; the consumer then neither FINs nor REQs it. */
  disableAutoResponse(): void {
    this.#autoResponse = false;
  }

  get isAutoResponseDisabled(): boolean {
    return !this.#autoResponse;
  }

  get hasResponded(): boolean {
    return this.#responded;
  }

  /** FIN: done with it. A second response is ignored. */
  finish(): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#responder.finish(this);
  }

  /**
   * REQ with backoff. `delayMs` -1 (the default) picks go-nsq's delay:
   * default_requeue_delay x attempts, capped at max_requeue_delay.
   */
  requeue(delayMs = -1): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#responder.requeue(this, delayMs, true);
  }

  /** REQ without signalling backoff. */
  requeueWithoutBackoff(delayMs = -1): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#responder.requeue(this, delayMs, false);
  }

  /** TOUCH: reset the server-side timeout. */
  touch(): void {
    if (this.#responded) return;
    this.#responder.touch(this);
  }
}
