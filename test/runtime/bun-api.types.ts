// Checked by tsc (npm test runs `tsc --noEmit`), not run: the real Bun API,
// as bun-types declare it, fits the view src/runtime/bun-api.ts gives the Bun
// adapter. A view that drifts from Bun fails the type check here.
import type * as BunFfiModule from "bun:ffi";
import type { BunApi, BunFfi, BunRawSocket, BunSocketHandler } from "../../src/runtime/bun-api.ts";

type Fits<Actual extends Expected, Expected> = [Actual, Expected];

export type BunGlobalFitsView = Fits<typeof Bun, BunApi>;
export type FfiFitsView = Fits<typeof BunFfiModule, BunFfi>;
export type SocketFitsView = Fits<import("bun").Socket<number>, BunRawSocket<number>>;
// The adapter's handlers are accepted where Bun expects its own.
export type HandlerFitsBun = Fits<BunSocketHandler<number>, import("bun").SocketHandler<number, "uint8array">>;
