// Types for the part of snappyjs (npm, plain JavaScript) that compression.ts uses.
declare module "snappyjs" {
  /** Snappy block format. A Uint8Array in gives a Uint8Array out. */
  export function compress(uncompressed: Uint8Array): Uint8Array;
  /** Throws on a corrupt block or one whose declared length exceeds `maxLength`. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
}
