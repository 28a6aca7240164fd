import type { FunctionArgs, FunctionReference, FunctionReturnType } from "convex/server";

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
