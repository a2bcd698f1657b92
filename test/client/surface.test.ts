// The client library's public surface (src/index.ts, published on npm and
// JSR): what a user can reach on a Consumer or Producer is its API, not the
// callbacks its connections use, and the options cannot be changed behind
// the client's back.
import { describe, expect, test } from "vitest";
import { Consumer, Producer, type ConfigValues } from "../../src/index.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";

const runtime = createNodeRuntime();

/** Every property name reachable on the object, its prototype chain included (Object's own excepted). */
function reachable(o: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) names.add(n);
  }
  return [...names].sort();
}

describe("public surface", () => {
  test("a Consumer shows its API only: no connection callbacks", () => {
    const c = new Consumer("t", "c", {}, { runtime });
    expect(reachable(c)).toEqual(
      [
        "addHandler",
        "changeMaxInFlight",
        "channel",
        "config",
        "connectToNsqLookupd",
        "connectToNsqLookupds",
        "connectToNsqd",
        "connectToNsqds",
        "constructor",
        "isStarved",
        "onFailedMessage",
        "stats",
        "stop",
        "stopped",
        "topic",
      ].sort(),
    );
  });

  test("a Producer shows its API only: no connection callbacks", () => {
    const p = new Producer("127.0.0.1:4150", {}, { runtime });
    expect(reachable(p)).toEqual(["address", "config", "connect", "constructor", "deferredPublish", "multiPublish", "ping", "publish", "stop"].sort());
  });

  test("config is a frozen copy; max_in_flight changes through changeMaxInFlight", () => {
    const c = new Consumer("t", "c", { max_in_flight: 3 }, { runtime });
    expect(() => {
      (c.config as ConfigValues).max_in_flight = 9;
    }).toThrow(TypeError);
    expect(c.config.max_in_flight).toBe(3);
    c.changeMaxInFlight(5);
    expect(c.config.max_in_flight).toBe(5);
    const p = new Producer("127.0.0.1:4150", { snappy: true }, { runtime });
    expect(Object.isFrozen(p.config)).toBe(true);
    expect(p.config.snappy).toBe(true);
  });
});
