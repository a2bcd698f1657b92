// The package's public API: the client library (go-nsq conventions, U-CLI-*).
//
//   const consumer = new Consumer("events", "archive", { max_in_flight: 10 });
//   consumer.addHandler(async (m) => { ... });
//   await consumer.connectToNsqLookupd("127.0.0.1:4161");
//
//   await new Producer("127.0.0.1:4150").publish("events", "hello");
//
// Options are a Config or a plain object. The runtime adapter (Node, Bun or
// Deno) is picked by loadRuntime() on first use; pass `{ runtime }` as the
// last argument to choose another.
export { Config, ConfigOptionError, CONFIG_OPTION_NAMES, GO_NSQ_VERSION, type ConfigValues } from "./client/config.ts";
export { Consumer, AlreadyConnectedError, type Handler, type ClientDeps, type ConsumerStats } from "./client/consumer.ts";
export { Producer, type Body } from "./client/producer.ts";
export { Message } from "./client/message.ts";
export { NsqError, type IdentifyResponse } from "./client/connection.ts";
export { loadRuntime } from "./runtime/index.ts";
export type { Runtime } from "./runtime/types.ts";
export type { Logger } from "./common/log.ts";
