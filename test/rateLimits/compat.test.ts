/**
 * Drop-in compatibility with `@convex-dev/rate-limiter` 0.4.0: each export,
 * option, result field and error a peer user relies on, pinned against
 * convex-guard. (docs/migrating-from-rate-limiter.md lists what still differs.)
 */
import { calculateRateLimit as peerCalculate } from "@convex-dev/rate-limiter";
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, expectTypeOf, test, vi } from "vitest";
import RateLimiterDefault, {
  HOUR,
  MINUTE,
  RateLimiter,
  calculateRateLimit,
  isRateLimitError,
  type ActionCtx,
  type GetValueReturns,
  type MutationCtx,
  type QueryCtx,
  type RateLimitConfig,
} from "convex-guard";
import { foldPending } from "../../src/component/rateLimits/async.js";
import { components, guardTest, runInGuard } from "../setup.js";

const T0 = 1_700_000_000_000;

const limiter = new RateLimiter(components.guard, {
  bucket: { kind: "token bucket", rate: 10, period: HOUR, capacity: 3, start: null },
  window: { kind: "fixed window", rate: 2, period: HOUR },
  sharded: { kind: "token bucket", rate: 40, period: MINUTE, shards: 4 },
  async: {
    kind: "token bucket",
    rate: 10,
    period: HOUR,
    capacity: 3,
    applyUpdates: "asynchronously",
  },
});

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

function fold(t: ReturnType<typeof guardTest>) {
  return t.mutation(async (ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
}

describe("exports", () => {
  test("the default export is the RateLimiter class", () => {
    expect(RateLimiterDefault).toBe(RateLimiter);
  });

  test("ctx types take what the peer's take", () => {
    expectTypeOf<QueryCtx>().toHaveProperty("runQuery");
    expectTypeOf<MutationCtx>().toHaveProperty("runMutation");
    expectTypeOf<ActionCtx>().toHaveProperty("runAction");
  });

  test("calculateRateLimit: the peer's signature and results (token bucket, fixed window)", () => {
    const cases: [{ value: number; ts: number } | null, RateLimitConfig, number, number][] = [
      [{ value: 1, ts: T0 }, { kind: "token bucket", rate: 10, period: MINUTE }, T0 + 30_000, 0],
      [
        { value: 0, ts: T0 },
        { kind: "token bucket", rate: 10, period: MINUTE, capacity: 3 },
        T0 + 1000,
        2,
      ],
      [{ value: 2, ts: T0 }, { kind: "fixed window", rate: 10, period: MINUTE }, T0 + 30_000, 12],
      [{ value: 0, ts: T0 }, { kind: "fixed window", rate: 5, period: MINUTE }, T0 + 130_000, 7],
      [null, { kind: "token bucket", rate: 10, period: MINUTE }, T0, 1],
      [null, { kind: "fixed window", rate: 10, period: MINUTE, start: 0 }, T0, 3],
    ];
    for (const [state, config, now, count] of cases) {
      expect(calculateRateLimit(state, config, now, count)).toEqual(
        peerCalculate(state, config as never, now, count),
      );
    }
  });

  test("isRateLimitError recognises our RateLimited error and the peer's shape", () => {
    expect(
      isRateLimitError(new ConvexError({ kind: "RateLimited", name: "x", retryAfter: 1 })),
    ).toBe(true);
    expect(isRateLimitError(new ConvexError({ kind: "other" }))).toBe(false);
  });
});

describe("configs are checked completely at construction", () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ["a misspelt field", { kind: "token bucket", rate: 1, period: MINUTE, capcity: 3 }, "capcity"],
    ["a wrong kind of value", { kind: "token bucket", rate: "10", period: MINUTE }, "rate"],
    ["an impossible value", { kind: "fixed window", rate: 1, period: -1 }, "period"],
    [
      "an unknown applyUpdates",
      { kind: "token bucket", rate: 1, period: 1, applyUpdates: "later" },
      "applyUpdates",
    ],
    ["start on a token bucket", { kind: "token bucket", rate: 1, period: 1, start: 5 }, "start"],
    ["an unknown kind", { kind: "leaky bucket", rate: 1, period: 1 }, "kind"],
  ];
  test.each(bad)("%s: INVALID_CONFIG naming the field", (_label, config, field) => {
    expect(() => new RateLimiter(components.guard, { l: config as never })).toThrow(
      expect.objectContaining({ data: expect.objectContaining({ code: "INVALID_CONFIG", field }) }),
    );
  });

  test("start: null on a token bucket is accepted, as the peer's types allow", () => {
    expect(
      () =>
        new RateLimiter(components.guard, {
          l: { kind: "token bucket", rate: 1, period: 1, start: null },
        }),
    ).not.toThrow();
  });

  test("an asynchronous sharded limit is refused at its first call, naming shards", async () => {
    const l = new RateLimiter(components.guard, {
      bad: {
        kind: "token bucket",
        rate: 1,
        period: HOUR,
        shards: 4,
        applyUpdates: "asynchronously",
      },
    });
    const t = guardTest();
    const error = await t.mutation(async (ctx) => l.limit(ctx, "bad")).catch((e) => e);
    expect(error.data).toMatchObject({ code: "INVALID_CONFIG", field: "shards" });
  });
});

describe("results", () => {
  test("a denied limit with throws: the peer's RateLimited data", async () => {
    const t = guardTest();
    for (let i = 0; i < 3; i++) await t.mutation(async (ctx) => limiter.limit(ctx, "bucket"));
    const error = await t
      .mutation(async (ctx) => limiter.limit(ctx, "bucket", { throws: true }))
      .catch((e) => e);
    expect(isRateLimitError(error)).toBe(true);
    expect(error.data).toMatchObject({ kind: "RateLimited", name: "bucket", retryAfter: 360_000 });
  });

  test("getValue: { value, ts, shard, config } with the peer's defaults filled in", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "bucket", { key: "u" }));
    const v: GetValueReturns = await t.query(async (ctx) =>
      limiter.getValue(ctx, "bucket", { key: "u" }),
    );
    expect(v).toMatchObject({ value: 2, ts: T0, shard: 0 });
    expect(v.config).toEqual({
      kind: "token bucket",
      rate: 10,
      period: HOUR,
      capacity: 3,
      start: null,
      shards: 1,
    });
  });

  test("getValue of a sharded key never written reports the whole capacity", async () => {
    const t = guardTest();
    const v = await t.query(async (ctx) => limiter.getValue(ctx, "sharded", { key: "new" }));
    expect(v.value).toBe(40);
    expect(v.config).toMatchObject({ shards: 4, capacity: 40 });
  });

  test("hookAPI's query takes { name?, key?, sampleShards?, config? }", async () => {
    const { getRateLimit } = limiter.hookAPI("bucket", {
      key: (_ctx, fromClient) => fromClient ?? "u",
    });
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "window", { key: "w" }));
    const handler = (
      getRateLimit as unknown as { _handler: (ctx: unknown, args: unknown) => Promise<unknown> }
    )._handler;
    const args = { name: "window", key: "w", sampleShards: 1 };
    const v = await t.query(async (ctx) => handler(ctx, args));
    expect(v).toMatchObject({ value: 1, shard: 0, config: { kind: "fixed window", rate: 2 } });
    const inline = { kind: "token bucket", rate: 5, period: HOUR } as const;
    const w = await t.query(async (ctx) => handler(ctx, { name: "other", config: inline }));
    expect(w).toMatchObject({ value: 5, config: { kind: "token bucket", rate: 5, capacity: 5 } });
  });
});

describe("applyUpdates: asynchronously", () => {
  test("admitted calls append consumption; folding applies it; getValue reports what is unfolded", async () => {
    const t = guardTest();
    for (let i = 0; i < 3; i++) {
      expect((await t.mutation(async (ctx) => limiter.limit(ctx, "async"))).ok).toBe(true);
    }
    const pending = await runInGuard(t, async (ctx) => ctx.db.query("rateLimitPending").collect());
    expect(pending.length).toBe(3);
    // As the peer's: `value` is the folded state; `unfolded` what is queued.
    const queued = await t.query(async (ctx) => limiter.getValue(ctx, "async"));
    expect(queued).toMatchObject({ value: 3, unfolded: 3 });
    // The unfolded 3 exhaust the folded 3: one more call gets in (as the
    // peer's tests expect), never a second.
    expect((await t.mutation(async (ctx) => limiter.limit(ctx, "async"))).ok).toBe(true);
    const denied = await t.mutation(async (ctx) => limiter.limit(ctx, "async"));
    // retryAfter: until the balance with the unfolded calls applied is back at 0.
    expect(denied).toEqual({ ok: false, retryAfter: 360_000 });
    await fold(t);
    expect(await runInGuard(t, async (ctx) => ctx.db.query("rateLimitPending").collect())).toEqual(
      [],
    );
    const folded = await t.query(async (ctx) => limiter.getValue(ctx, "async"));
    expect(folded).toMatchObject({ value: -1, unfolded: 0 });
    // Folding again changes nothing: every row is applied once.
    await fold(t);
    expect((await t.query(async (ctx) => limiter.getValue(ctx, "async"))).value).toBe(-1);
    expect((await t.mutation(async (ctx) => limiter.limit(ctx, "async"))).ok).toBe(false);
  });

  test("a hot key's last fold leaves the loop idle; a later tick sweeps its idle state", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "async"));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    // One tick folded the call, then nothing was scheduled: the clock moved one second.
    expect(Date.now()).toBeLessThan(T0 + 5_000);
    const scheduled = await runInGuard(t, async (ctx) =>
      ctx.db.system.query("_scheduled_functions").collect(),
    );
    expect(scheduled.filter((j) => j.state.kind === "pending")).toEqual([]);
    expect((await t.query(async (ctx) => limiter.getValue(ctx, "async"))).value).toBe(2);
    // Once idle, the next tick that runs for any other work deletes it.
    vi.setSystemTime(T0 + HOUR);
    await t.mutation(async (ctx) => limiter.limit(ctx, "bucket", { key: "other" }));
    await fold(t);
    const docs = await runInGuard(t, async (ctx) => ctx.db.query("rateLimits").collect());
    expect(docs.map((d) => d.key)).toEqual(["other"]);
  });

  test("a failed fold pass changes nothing; the next one folds every row once", async () => {
    const t = guardTest();
    for (let i = 0; i < 3; i++) await t.mutation(async (ctx) => limiter.limit(ctx, "async"));
    const crash = runInGuard(t, async (ctx) => {
      await foldPending(ctx);
      throw new Error("pass crashed");
    });
    await expect(crash).rejects.toThrow("pass crashed");
    const rows = await runInGuard(t, async (ctx) => ctx.db.query("rateLimitPending").collect());
    expect(rows).toHaveLength(3);
    expect(await runInGuard(t, async (ctx) => ctx.db.query("rateLimits").collect())).toEqual([]);
    await fold(t);
    await fold(t);
    const [doc] = await runInGuard(t, async (ctx) => ctx.db.query("rateLimits").collect());
    expect(doc).toMatchObject({ alg: "token bucket", value: 0 });
    expect(doc?.foldedThrough).toBeTypeOf("bigint");
  });

  test("reserve goes into debt and the debt recovers over time", async () => {
    const t = guardTest();
    const r = await t.mutation(async (ctx) =>
      limiter.limit(ctx, "async", { count: 5, reserve: true }),
    );
    expect(r).toEqual({ ok: true, retryAfter: 720_000 });
    await fold(t);
    expect((await t.query(async (ctx) => limiter.getValue(ctx, "async"))).value).toBe(-2);
    vi.setSystemTime(T0 + HOUR);
    expect((await t.query(async (ctx) => limiter.check(ctx, "async"))).ok).toBe(true);
  });

  test("reset deletes the state and the unfolded consumption", async () => {
    const t = guardTest();
    for (let i = 0; i < 3; i++) await t.mutation(async (ctx) => limiter.limit(ctx, "async"));
    await t.mutation(async (ctx) => limiter.reset(ctx, "async"));
    expect((await t.mutation(async (ctx) => limiter.limit(ctx, "async"))).ok).toBe(true);
  });
});
