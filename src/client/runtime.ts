// The runtime adapter a Producer or Consumer connects through: the one given
// in ClientDeps, or else the adapter of the runtime this code runs on (Node,
// Bun or Deno), loaded on first use. Either way the config's hostname and
// client_id defaults come from that runtime's host name, as go-nsq takes
// them from os.Hostname().
import type { Runtime } from "../runtime/types.ts";
import { loadRuntime } from "../runtime/index.ts";
import type { Config } from "./config.ts";

export class ClientRuntime {
  #runtime: Runtime | undefined;
  #loading: Promise<Runtime> | undefined;
  readonly #config: Config;

  constructor(given: Runtime | undefined, config: Config) {
    this.#config = config;
    if (given !== undefined) this.#adopt(given);
  }

  /** The runtime, loading the default adapter the first time it is needed. */
  get(): Promise<Runtime> {
    if (this.#runtime !== undefined) return Promise.resolve(this.#runtime);
    this.#loading ??= loadRuntime().then((runtime) => this.#adopt(runtime));
    return this.#loading;
  }

  #adopt(runtime: Runtime): Runtime {
    this.#runtime = runtime;
    this.#config.useHostname(runtime.hostname());
    return runtime;
  }
}
