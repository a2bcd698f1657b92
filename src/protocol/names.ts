// X-NAME-VALID / X-NAME-EPHEMERAL: the one naming rule for topics and channels,
// shared by nsqd (TCP and HTTP), lookupd, nsqadmin and the tools.
//
// A name is 1..64 bytes and matches ^[.a-zA-Z0-9_-]+(#ephemeral)?$ (the suffix
// counts toward the 64). Only ASCII can match, so for a string that passes the
// pattern its UTF-16 length equals its byte length.

const NAME_PATTERN = /^[.a-zA-Z0-9_-]+(#ephemeral)?$/;
const EPHEMERAL_SUFFIX = "#ephemeral";
const MAX_NAME_LENGTH = 64;

function isValidName(name: string): boolean {
  return name.length >= 1 && name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name);
}

/** X-NAME-VALID for a topic name. */
export function isValidTopicName(name: string): boolean {
  return isValidName(name);
}

/** X-NAME-VALID for a channel name (same rule as topics). */
export function isValidChannelName(name: string): boolean {
  return isValidName(name);
}

/** X-NAME-EPHEMERAL: the name ends in `#ephemeral` (memory-only, auto-deleted). */
export function isEphemeral(name: string): boolean {
  return name.endsWith(EPHEMERAL_SUFFIX);
}

// Byte-level check used by the command reader, so a topic token can be
// validated before (and without) decoding it.
// NAME_BYTE[b] = 1 for [.a-zA-Z0-9_-].
const NAME_BYTE = new Uint8Array(256);
for (let b = 0x30; b <= 0x39; b++) NAME_BYTE[b] = 1;
for (let b = 0x41; b <= 0x5a; b++) NAME_BYTE[b] = 1;
for (let b = 0x61; b <= 0x7a; b++) NAME_BYTE[b] = 1;
NAME_BYTE[0x2e] = 1; // .
NAME_BYTE[0x5f] = 1; // _
NAME_BYTE[0x2d] = 1; // -

const SUFFIX_BYTES = new Uint8Array([...EPHEMERAL_SUFFIX].map((c) => c.charCodeAt(0)));

/** X-NAME-VALID over the bytes `bytes[start, end)`. */
export function isValidNameBytes(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  const len = end - start;
  if (len < 1 || len > MAX_NAME_LENGTH) return false;
  let stop = end;
  // The suffix needs at least one name byte before it.
  if (len > SUFFIX_BYTES.length && bytes[end - SUFFIX_BYTES.length] === 0x23) {
    let match = true;
    for (let k = 0; k < SUFFIX_BYTES.length; k++) {
      if (bytes[end - SUFFIX_BYTES.length + k] !== SUFFIX_BYTES[k]) {
        match = false;
        break;
      }
    }
    if (match) stop = end - SUFFIX_BYTES.length;
  }
  for (let i = start; i < stop; i++) {
    if (NAME_BYTE[bytes[i]!] === 0) return false;
  }
  return true;
}
