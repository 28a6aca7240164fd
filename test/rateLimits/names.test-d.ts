import { describe, expectTypeOf, test } from "vitest";
import type { GenericMutationCtx, GenericDataModel, GenericQueryCtx } from "convex/server";
import { MINUTE, RateLimiter, type RateLimitResult } from "convex-guard";
import { components } from "../setup.js";

/**
 * A configured name takes optional options; any other string needs its
 * `config` inline (docs/rate-limits.md). A misspelled name without one is a
 * type error on the name itself (test/toolchain/limitNameError.test.ts holds
 * the message).
 */
const limiter = new RateLimiter(components.guard, {
  createPost: { kind: "sliding window", rate: 3, period: MINUTE },
});
declare const ctx: GenericMutationCtx<GenericDataModel>;
declare const queryCtx: GenericQueryCtx<GenericDataModel>;
const inline = { kind: "fixed window", rate: 1, period: MINUTE } as const;

describe("rate limit names", () => {
  test("configured names, with or without options", () => {
    expectTypeOf(limiter.limit(ctx, "createPost")).toEqualTypeOf<Promise<RateLimitResult>>();
    expectTypeOf(limiter.limit(ctx, "createPost", { key: "u1" })).toEqualTypeOf<
      Promise<RateLimitResult>
    >();
    void limiter.check(queryCtx, "createPost", { key: "u1" });
    void limiter.getValue(queryCtx, "createPost");
    void limiter.credit(ctx, "createPost", { count: 1 });
  });

  test("an unconfigured name with an inline config", () => {
    void limiter.limit(ctx, "other", { key: "u1", config: inline });
    void limiter.check(queryCtx, "other", { config: inline });
    void limiter.getValue(queryCtx, "other", { config: inline });
    void limiter.credit(ctx, "other", { count: 1, config: inline });
  });

  test("an unknown name without a config is an error", () => {
    // @ts-expect-error "createPots" is not a configured name
    void limiter.limit(ctx, "createPots", { key: "u1" });
    // @ts-expect-error "createPots" is not a configured name
    void limiter.limit(ctx, "createPots");
    // @ts-expect-error "createPots" is not a configured name
    void limiter.check(queryCtx, "createPots", { key: "u1" });
    // @ts-expect-error "createPots" is not a configured name
    void limiter.getValue(queryCtx, "createPots");
    // @ts-expect-error "createPots" is not a configured name
    void limiter.credit(ctx, "createPots", { count: 1 });
    // @ts-expect-error an option the limit does not have
    void limiter.limit(ctx, "createPost", { key: "u1", bogus: 1 });
  });
});
