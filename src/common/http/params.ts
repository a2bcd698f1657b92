// Request parameters as the original's NewReqParams reads them
// (X-HTTP-PARAMS): the query string only, by Go's url.ParseQuery rules
// (../query.ts); the body is read and ignored.
import { parseQuery } from "../query.ts";
import { drain } from "./body.ts";
import { HttpError } from "./error.ts";

/** Parsed query parameters; the first value of a key wins. */
export class QueryParams {
  readonly #values: Map<string, string[]>;

  private constructor(values: Map<string, string[]>) {
    this.#values = values;
  }

  /** Null when the query does not parse (Go's url.ParseQuery error). */
  static parse(rawQuery: string): QueryParams | null {
    const values = parseQuery(rawQuery);
    return values === null ? null : new QueryParams(values);
  }

  /** The first value: "" when given empty, undefined when absent. */
  get(key: string): string | undefined {
    return this.#values.get(key)?.[0];
  }
}

/**
 * NewReqParams of the original: drain the body, parse the query. Throws
 * HttpError(400, "INVALID_REQUEST") when either fails, after telling
 * `onError` why (nsqd logs it; nsqlookupd does not).
 */
export async function readParams(req: { readonly request: Request; readonly rawQuery: string }, onError?: (reason: string) => void): Promise<QueryParams> {
  const drained = await drain(req.request.body);
  const params = drained ? QueryParams.parse(req.rawQuery) : null;
  if (params === null) {
    onError?.(drained ? "invalid query" : "failed to read body");
    throw new HttpError(400, "INVALID_REQUEST");
  }
  return params;
}
