// A tiny assertion helper that runs on Node, Bun and Deno (no test framework).

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function ok(cond: unknown, message: string): asserts cond {
  if (!cond) throw new AssertionError(message);
}

export function equal<T>(actual: T, expected: T, what: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export function bytesEqual(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.byteLength !== expected.byteLength) {
    throw new AssertionError(`${what}: expected ${expected.byteLength} bytes, got ${actual.byteLength}`);
  }
  for (let i = 0; i < actual.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      throw new AssertionError(`${what}: first difference at byte ${i}: expected ${expected[i]}, got ${actual[i]}`);
    }
  }
}

export async function rejects(p: Promise<unknown>, what: string, match?: RegExp): Promise<Error> {
  try {
    await p;
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    if (match && !match.test(e.message)) throw new AssertionError(`${what}: error "${e.message}" does not match ${match}`);
    return e;
  }
  throw new AssertionError(`${what}: expected a rejection`);
}

export function throws(fn: () => unknown, what: string, match?: RegExp): Error {
  try {
    fn();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    if (match && !match.test(e.message)) throw new AssertionError(`${what}: error "${e.message}" does not match ${match}`);
    return e;
  }
  throw new AssertionError(`${what}: expected an exception`);
}

/** Resolves when `cond()` holds; rejects after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new AssertionError(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
