// The nsqd daemon (placeholder signature; the implementation follows).
import type { Runtime, Address } from "../runtime/types.ts";
import type { Logger } from "../common/log.ts";
import type { NsqdOptions } from "./options.ts";

export interface NsqdDeps {
  runtime: Runtime;
  logger: Logger;
}

export class Nsqd {
  readonly options: NsqdOptions;
  readonly #deps: NsqdDeps;
  constructor(options: NsqdOptions, deps: NsqdDeps) {
    this.options = options;
    this.#deps = deps;
  }
  /** Bound TCP address once started. */
  get tcpAddress(): Address | null {
    return null;
  }
  /** Bound HTTP address once started (null when disabled). */
  get httpAddress(): Address | null {
    return null;
  }
  async start(): Promise<void> {
    throw new Error(`nsqd is not implemented yet (${this.#deps.runtime.name})`);
  }
  async close(): Promise<void> {}
}
