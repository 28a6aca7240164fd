import { convexTest } from "convex-test";
import { anyApi, type FunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  HOUR,
  MINUTE,
  RateLimiter,
  SECOND,
  WEEK,
  isRateLimitError,
  type GetValueResult,
  type RateLimitArgs,
  type RateLimitConfig,
} from "convex-guard";
import { register } from "../../src/test.js";
import { components, guardTest, runInGuard } from "../setup.js";

const limiter = new RateLimiter(components.guard, {
  sendMessage: { kind: "sliding window", rate: 3, period: MINUTE },
  login: { kind: "sliding window", rate: 2, period: 15 * MINUTE, precision: "exact" },
  signUp: { kind: "fixed window", rate: 2, period: HOUR, start: 0 },
  llmTokens: {
    kind: "token bucket",
    rate: 4000,
    period: MINUTE,
    capacity: 1000,
    maxReserved: 2000,
  },
  sharded: { kind: "token bucket", rate: 20, period: MINUTE, shards: 4 },
});

const T0 = 1_700_000_000_000;

async function rows(t: ReturnType<typeof guardTest>) {
  return runInGuard(t, async (ctx) => ctx.db.query("rateLimits").collect());
}

/** Lets `ms` pass in 10 s steps, running scheduled functions as they come due. */
async function runClock(t: ReturnType<typeof guardTest>, ms: number) {
  for (let left = ms; left > 0; left -= 10 * SECOND) {
    vi.advanceTimersByTime(Math.min(left, 10 * SECOND));
    await t.finishInProgressScheduledFunctions();
  }
}

describe("RateLimiter through the component", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  test("admits up to the rate, then denies with the exact retryAfter, then admits again", async () => {
    const t = guardTest();
    const send = () =>
      t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "alice" }));
    expect(await send()).toEqual({ ok: true });
    expect(await send()).toEqual({ ok: true });
    expect(await send()).toEqual({ ok: true });
    const denied = await send();
    expect(denied.ok).toBe(false);
    // Another key is independent.
    expect(
      await t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "bob" })),
    ).toEqual({ ok: true });
    vi.advanceTimersByTime(denied.retryAfter! - 1);
    expect((await send()).ok).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await send()).toEqual({ ok: true });
  });

  test("exact sliding window: retryAfter is when the oldest admission leaves the window", async () => {
    const t = guardTest();
    const login = () => t.mutation(async (ctx) => limiter.limit(ctx, "login", { key: "u1" }));
    await login();
    vi.advanceTimersByTime(MINUTE);
    await login();
    expect(await login()).toEqual({ ok: false, retryAfter: 14 * MINUTE });
  });

  test("throws: true throws the peer-compatible ConvexError and writes nothing", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "signUp", { count: 2 }));
    const before = await rows(t);
    const error = await t
      .mutation(async (ctx) => limiter.limit(ctx, "signUp", { throws: true }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvexError);
    expect(isRateLimitError(error)).toBe(true);
    expect((error as ConvexError<any>).data).toEqual({
      kind: "RateLimited",
      code: "RATE_LIMITED",
      name: "signUp",
      retryAfter: HOUR - (T0 % HOUR),
      message: expect.stringContaining("signUp"),
    });
    expect(await rows(t)).toEqual(before);
  });

  test("a peer user's imports resolve: WEEK and the RateLimitArgs type", () => {
    const args: RateLimitArgs = {
      name: "weekly",
      config: { kind: "token bucket", rate: 1, period: WEEK },
    };
    expect((args.config as { period: number }).period).toBe(7 * 24 * HOUR);
  });

  test("inline config for a one-off name", async () => {
    const t = guardTest();
    const config = { kind: "fixed window" as const, rate: 1, period: SECOND };
    expect(await t.mutation(async (ctx) => limiter.limit(ctx, "oneOff", { config }))).toEqual({
      ok: true,
    });
    expect((await t.mutation(async (ctx) => limiter.limit(ctx, "oneOff", { config }))).ok).toBe(
      false,
    );
  });

  test("a changed kind replaces the whole stored state: no field of the old one stays", async () => {
    const t = guardTest();
    const kinds: [RateLimitConfig, string[]][] = [
      [{ kind: "sliding window", rate: 5, period: MINUTE }, ["log"]],
      [{ kind: "token bucket", rate: 5, period: MINUTE }, []],
      [{ kind: "sliding window", rate: 5, period: MINUTE, precision: "exact" }, ["entries"]],
      [{ kind: "fixed window", rate: 5, period: MINUTE }, []],
    ];
    for (const [config, own] of kinds) {
      await t.mutation(async (ctx) => limiter.limit(ctx, "changing", { key: "k", config }));
      const [doc] = await rows(t);
      const state = ["alg", "value", "ts", "log", "entries"].filter((f) => f in doc!);
      expect(state, config.kind).toEqual(["alg", "value", "ts", ...own]);
    }
  });

  test("check consumes nothing and works in a query", async () => {
    const t = guardTest();
    for (let i = 0; i < 5; i++) {
      expect(await t.query(async (ctx) => limiter.check(ctx, "sendMessage", { key: "a" }))).toEqual(
        { ok: true },
      );
    }
    expect(await rows(t)).toEqual([]);
    expect(
      await t.query(async (ctx) =>
        limiter.check(ctx, "sendMessage", { key: "a", count: 4 }).catch((e) => e.data.code),
      ),
    ).toBe("TOO_LARGE");
  });

  test("reset deletes the state: the next call starts fresh", async () => {
    const t = guardTest();
    for (let i = 0; i < 2; i++)
      await t.mutation(async (ctx) => limiter.limit(ctx, "login", { key: "k" }));
    expect((await t.mutation(async (ctx) => limiter.limit(ctx, "login", { key: "k" }))).ok).toBe(
      false,
    );
    await t.mutation(async (ctx) => limiter.reset(ctx, "login", { key: "k" }));
    expect(await rows(t)).toEqual([]);
    expect(await t.mutation(async (ctx) => limiter.limit(ctx, "login", { key: "k" }))).toEqual({
      ok: true,
    });
  });

  test("reserve goes negative up to maxReserved; retryAfter says when the reservation is paid", async () => {
    const t = guardTest();
    const r = await t.mutation(async (ctx) =>
      limiter.limit(ctx, "llmTokens", { count: 1200, reserve: true }),
    );
    // 200 tokens short at 4000/minute: paid in 3 s.
    expect(r).toEqual({ ok: true, retryAfter: 3 * SECOND });
    const denied = await t.mutation(async (ctx) =>
      limiter.limit(ctx, "llmTokens", { count: 1900, reserve: true }),
    );
    // -200 - 1900 = -2100 is over maxReserved 2000 until 100 tokens refill: 1.5 s.
    expect(denied).toEqual({ ok: false, retryAfter: 1500 });
    const { value } = await t.query(async (ctx) => limiter.getValue(ctx, "llmTokens"));
    expect(value).toBe(-200);
  });

  test("credit refunds unused capacity but never above capacity", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "llmTokens", { count: 800 }));
    expect(
      await t.mutation(async (ctx) => limiter.credit(ctx, "llmTokens", { count: 300 })),
    ).toEqual({ credited: 300 });
    expect((await t.query(async (ctx) => limiter.getValue(ctx, "llmTokens"))).value).toBe(500);
    expect(
      await t.mutation(async (ctx) => limiter.credit(ctx, "llmTokens", { count: 10_000 })),
    ).toEqual({ credited: 500 });
    expect((await t.query(async (ctx) => limiter.getValue(ctx, "llmTokens"))).value).toBe(1000);
    // Sliding windows too: the refund frees the window right away.
    for (let i = 0; i < 3; i++)
      await t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "c" }));
    expect(
      await t.mutation(async (ctx) => limiter.credit(ctx, "sendMessage", { key: "c", count: 5 })),
    ).toEqual({ credited: 3 });
    expect(
      await t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "c", count: 3 })),
    ).toEqual({ ok: true });
  });

  test("limitAll consumes nothing when any limit denies", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "signUp", { count: 2 }));
    const before = await rows(t);
    const r = await t.mutation(async (ctx) =>
      limiter.limitAll(ctx, [{ name: "sendMessage", key: "u" }, { name: "signUp" }]),
    );
    expect(r.ok).toBe(false);
    expect(r.results.map((x) => [x.name, x.ok])).toEqual([
      ["sendMessage", true],
      ["signUp", false],
    ]);
    expect(r.retryAfter).toBe(HOUR - (T0 % HOUR));
    expect(await rows(t)).toEqual(before);
    // All admitted: all consumed.
    const ok = await t.mutation(async (ctx) =>
      limiter.limitAll(ctx, [
        { name: "sendMessage", key: "u" },
        { name: "login", key: "u" },
      ]),
    );
    expect(ok.ok).toBe(true);
    expect((await rows(t)).length).toBe(before.length + 2);
  });

  test("a host mutation that throws after limit leaves no trace", async () => {
    const t = guardTest();
    await expect(
      t.mutation(async (ctx) => {
        await limiter.limit(ctx, "login", { key: "k" });
        throw new Error("host failed");
      }),
    ).rejects.toThrow("host failed");
    expect(await rows(t)).toEqual([]);
    expect(await runInGuard(t, async (ctx) => ctx.db.query("guardState").collect())).toEqual([]);
  });

  test("getValue returns remaining, state time, window and config", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "signUp"));
    const v = await t.query(async (ctx) => limiter.getValue(ctx, "signUp"));
    expect(v).toMatchObject({
      value: 1,
      windowStart: T0 - (T0 % HOUR),
      shard: 0,
      shards: 1,
      capacity: 2,
      now: T0,
    });
    // Defaults filled in, as the peer's getValue does.
    expect(v.config).toEqual({
      kind: "fixed window",
      rate: 2,
      period: HOUR,
      start: 0,
      shards: 1,
      capacity: 2,
    });
  });

  test("sharded: the total admitted never exceeds the rate", async () => {
    const t = guardTest();
    let admitted = 0;
    for (let i = 0; i < 40; i++) {
      const r = await t.mutation(async (ctx) => limiter.limit(ctx, "sharded", { count: 1 }));
      if (r.ok) admitted++;
    }
    expect(admitted).toBeLessThanOrEqual(20);
    expect(admitted).toBeGreaterThanOrEqual(15);
    const docs = await rows(t);
    expect(docs.length).toBeLessThanOrEqual(4);
    expect(docs.reduce((s, d) => s + (5 - (d.value ?? 5)), 0)).toBe(admitted);
  });

  test("idle keys are swept: storage follows active keys only", async () => {
    const t = guardTest();
    for (let i = 0; i < 5; i++) {
      await t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: `user${i}` }));
    }
    await t.mutation(async (ctx) => limiter.limit(ctx, "llmTokens", { count: 10 }));
    expect((await rows(t)).length).toBe(6);
    // The token bucket refills 10 tokens in 150 ms; the windows empty after 2 minutes.
    vi.advanceTimersByTime(SECOND);
    expect(
      (await t.mutation(async (ctx) => ctx.runMutation(components.guard.maintenance.runNow, {})))
        .rateLimits,
    ).toBe(1);
    expect((await rows(t)).length).toBe(5);
    // A rolling minute: the first calls' windows are empty at T0 + 60 s (the
    // scheduled loop may sweep some of them before runNow does).
    vi.advanceTimersByTime(50 * SECOND);
    await t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "user0" }));
    vi.advanceTimersByTime(20 * SECOND); // T0 + 71 s: user0 is active until T0 + 111 s
    const swept = (
      await t.mutation(async (ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}))
    ).rateLimits;
    expect(swept).toBeLessThanOrEqual(4);
    expect((await rows(t)).map((d) => d.key)).toEqual(["user0"]);
    // The scheduled loop (started by the first insert, ticking every minute
    // when idle) sweeps the last one without any explicit call.
    await runClock(t, 3 * MINUTE);
    expect(await rows(t)).toEqual([]);
  });
});

describe("hookAPI", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  const hooks = limiter.hookAPI("sendMessage", {
    key: async (_ctx, fromClient) => `user:${fromClient ?? "anon"}`,
  });
  const fixed = limiter.hookAPI("signUp");
  const pinned = limiter.hookAPI("signUp", { key: "team:1" });

  function hostTest() {
    const t = convexTest(undefined, {
      "./host/_generated/api.ts": async () => ({}),
      "./host/hooks.ts": async () => ({
        ...hooks,
        getFixed: fixed.getRateLimit,
        getPinned: pinned.getRateLimit,
      }),
    });
    register(t);
    return t;
  }
  const api = anyApi as unknown as {
    hooks: {
      getRateLimit: FunctionReference<
        "query",
        "public",
        { key?: string; sampleShards?: number },
        GetValueResult
      >;
      getFixed: FunctionReference<"query", "public", { key?: string }, GetValueResult>;
      getPinned: FunctionReference<"query", "public", { key?: string }, GetValueResult>;
      getServerTime: FunctionReference<"mutation", "public", Record<string, never>, number>;
    };
  };

  test("getRateLimit reads the key the hook derives; getServerTime returns the server clock", async () => {
    const t = hostTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "user:7" }));
    const v = await t.query(api.hooks.getRateLimit, { key: "7" });
    expect(v.value).toBe(2);
    expect(v.state).toMatchObject({ value: 1 });
    expect(await t.mutation(api.hooks.getServerTime, {})).toBe(T0);
  });

  test("a client-sent key is refused unless hookAPI's key is a function", async () => {
    const t = hostTest();
    await expect(t.query(api.hooks.getFixed, { key: "x" })).rejects.toThrow(
      /does not accept a key/,
    );
    expect((await t.query(api.hooks.getFixed, {})).value).toBe(2);
    // A string key fixes the key: a client's is refused, not silently replaced.
    await t.mutation(async (ctx) => limiter.limit(ctx, "signUp", { key: "team:1" }));
    await expect(t.query(api.hooks.getPinned, { key: "x" })).rejects.toThrow(
      /does not accept a key/,
    );
    expect((await t.query(api.hooks.getPinned, {})).value).toBe(1);
  });
});
