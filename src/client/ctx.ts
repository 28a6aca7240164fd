import type { FunctionArgs, FunctionReference, FunctionReturnType } from "convex/server";
import { ErrorCode, guardError } from "../component/lib/errors.js";

/** Any ctx that can run a component query: a query, mutation or action ctx. */
export type RunQueryCtx = {
  runQuery: <Q extends FunctionReference<"query", "internal">>(
    q: Q,
    args: FunctionArgs<Q>,
  ) => Promise<FunctionReturnType<Q>>;
};

/** Any ctx that can run a component mutation: a mutation ctx (or an action ctx, outside a transaction). */
export type RunMutationCtx = RunQueryCtx & {
  runMutation: <M extends FunctionReference<"mutation", "internal">>(
    m: M,
    args: FunctionArgs<M>,
  ) => Promise<FunctionReturnType<M>>;
};

/**
 * Throws INVALID_ARGUMENT unless `ctx` can run a component mutation: a writer
 * (`limit`, `log`, `issue`, `create`...) called with a query's ctx would
 * otherwise fail deep inside with "ctx.runMutation is not a function". The
 * message names the method and what a query can call instead.
 */
export function assertWriteCtx(
  ctx: unknown,
  method: string,
  inQueries: string,
): asserts ctx is RunMutationCtx {
  if (typeof ctx === "object" && ctx !== null) {
    if ("runMutation" in ctx && typeof ctx.runMutation === "function") return;
  }
  const isReadCtx = typeof ctx === "object" && ctx !== null && "runQuery" in ctx;
  throw guardError(
    ErrorCode.INVALID_ARGUMENT,
    `${method} writes, so it needs the ctx of a mutation (or an action); ` +
      `${isReadCtx ? "this ctx is a query's, which can only read" : "this is not a Convex function's ctx"}. ` +
      `In a query use ${inQueries}.`,
    { method },
  );
}
