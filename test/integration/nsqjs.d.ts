// The part of nsqjs (npm, plain JavaScript, no bundled types) the conformance
// suites use.
declare module "nsqjs" {
  import type { EventEmitter } from "node:events";

  export interface Message extends EventEmitter {
    readonly id: string;
    readonly attempts: number;
    /** Publish time, Unix ns. */
    readonly timestamp: bigint | number;
    readonly body: Uint8Array & { toString(): string };
    finish(): void;
    requeue(delayMs?: number, backoff?: boolean): void;
    touch(): void;
  }

  export interface ReaderOptions {
    nsqdTCPAddresses?: string[];
    lookupdHTTPAddresses?: string[];
    maxInFlight?: number;
    messageTimeout?: number | null;
    heartbeatInterval?: number;
    maxAttempts?: number;
    requeueDelay?: number;
    clientId?: string | null;
  }

  export class Reader extends EventEmitter {
    constructor(topic: string, channel: string, options: ReaderOptions);
    connect(): void;
    close(): void;
    on(event: "message", listener: (message: Message) => void): this;
    on(event: "ready" | "not_ready" | "nsqd_connected" | "nsqd_closed", listener: () => void): this;
    on(event: "error", listener: (error: Error) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
  }

  export class Writer extends EventEmitter {
    constructor(host: string, port: number, options?: Record<string, unknown>);
    connect(): void;
    close(): void;
    publish(topic: string, messages: string | Uint8Array | (string | Uint8Array)[], callback?: (error?: Error) => void): void;
    /** nsqjs 0.13 wants a one-element array here (a bare string throws). */
    deferPublish(topic: string, message: (string | Uint8Array)[], delayMs: number, callback?: (error?: Error) => void): void;
  }

  const nsq: { Reader: typeof Reader; Writer: typeof Writer };
  export default nsq;
}
