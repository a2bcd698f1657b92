// What a caught value says, for log lines and error texts. JavaScript lets
// anything be thrown; a log line wants the message of an Error and the plain
// text of anything else, never "undefined".

/** The message of an Error, else the value as text. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
