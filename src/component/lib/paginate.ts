import type { PaginationOptions, PaginationResult } from "convex/server";
import { ErrorCode, guardError, isGuardError } from "./errors.js";

/**
 * `query.paginate(opts)` with a coded error for a cursor the query did not
 * issue. Cursors are opaque (their format is the database's), so the only
 * check is the database's own: paginating from a garbage `cursor` or
 * `endCursor` fails, and that failure becomes INVALID_ARGUMENT naming the
 * field. A failure from the first page (no cursor) is rethrown as it is.
 */
export async function paginateChecked<T>(
  query: { paginate(opts: PaginationOptions): Promise<PaginationResult<T>> },
  opts: PaginationOptions,
): Promise<PaginationResult<T>> {
  const fromCursor = opts.cursor !== null || (opts.endCursor ?? null) !== null;
  if (!fromCursor) return query.paginate(opts);
  try {
    return await query.paginate(opts);
  } catch (e) {
    if (isGuardError(e)) throw e;
    const field = opts.cursor !== null ? "paginationOpts.cursor" : "paginationOpts.endCursor";
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `${field} is not a cursor this list returned; start again with cursor: null`,
      { field },
    );
  }
}
