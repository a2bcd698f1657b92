// The one error a route handler throws to answer with an error status.

/**
 * A handler's refusal: the HTTP status and the text the client sees. The
 * router answers it as X-HTTP-V1 does, `{"message":"<TEXT>"}`.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
