import { describe, expectTypeOf, test } from "vitest";
import type {
  GenericActionCtx,
  GenericDataModel,
  GenericMutationCtx,
  GenericQueryCtx,
} from "convex/server";
import { AuditLog, Confirmations, RateLimiter } from "convex-guard";

/**
 * The three clients share one pair of ctx types (src/client/ctx.ts): writes
 * take a mutation or action ctx, reads also take a query ctx, and a query ctx
 * can never reach a write.
 */
type Q = GenericQueryCtx<GenericDataModel>;
type M = GenericMutationCtx<GenericDataModel>;
type A = GenericActionCtx<GenericDataModel>;

type WriteCtx<F> = F extends (ctx: infer C, ...rest: any[]) => any ? C : never;

describe("client ctx types", () => {
  test("writes accept mutation and action ctx, not query ctx", () => {
    for (const ctx of [null as unknown as M, null as unknown as A]) {
      expectTypeOf(ctx).toMatchTypeOf<WriteCtx<RateLimiter["limit"]>>();
      expectTypeOf(ctx).toMatchTypeOf<WriteCtx<AuditLog["log"]>>();
      expectTypeOf(ctx).toMatchTypeOf<WriteCtx<Confirmations["consume"]>>();
    }
    expectTypeOf<Q>().not.toMatchTypeOf<WriteCtx<RateLimiter["limit"]>>();
    expectTypeOf<Q>().not.toMatchTypeOf<WriteCtx<AuditLog["log"]>>();
    expectTypeOf<Q>().not.toMatchTypeOf<WriteCtx<Confirmations["consume"]>>();
  });

  test("reads accept query ctx", () => {
    expectTypeOf<Q>().toMatchTypeOf<WriteCtx<RateLimiter["check"]>>();
    expectTypeOf<Q>().toMatchTypeOf<WriteCtx<RateLimiter["getValue"]>>();
    expectTypeOf<Q>().toMatchTypeOf<WriteCtx<AuditLog["list"]>>();
    expectTypeOf<Q>().toMatchTypeOf<WriteCtx<Confirmations["status"]>>();
  });
});
