/**
 * Asynchronous limits decide like their transactional twins, through the
 * public RateLimiter API: state is stored, folded by the real maintenance
 * pass and read back before the next decision.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MINUTE, RateLimiter, type RateLimitConfig } from "convex-guard";
import { components, drainMaintenance, guardTest, runInGuard } from "../setup.js";

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);
const async = { applyUpdates: "asynchronously" } as const;
const window10 = { kind: "sliding window", rate: 10, period: MINUTE } as const;
const window5 = { kind: "sliding window", rate: 5, period: MINUTE } as const;
const limits = {
  window: { ...window10, ...async },
  windowTwin: window10,
  five: { ...window5, ...async },
  fiveTwin: window5,
  bucket: { kind: "token bucket", rate: 10, period: MINUTE, ...async },
} satisfies Record<string, RateLimitConfig>;
const limiter = new RateLimiter(components.guard, limits);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe("asynchronous limits decide like their transactional twins", () => {
  test("an asynchronous sliding window admits after a fold exactly when its twin does", async () => {
    const t = guardTest();
    for (let i = 0; i < 10; i++) {
      vi.setSystemTime(T0 + i * 6_000);
      expect((await t.mutation((ctx) => limiter.limit(ctx, "window"))).ok).toBe(true);
      expect((await t.mutation((ctx) => limiter.limit(ctx, "windowTwin"))).ok).toBe(true);
      await drainMaintenance(t);
    }
    vi.setSystemTime(T0 + MINUTE + 1);
    const twin = await t.mutation((ctx) => limiter.limit(ctx, "windowTwin"));
    const got = await t.mutation((ctx) => limiter.limit(ctx, "window"));
    expect(twin).toEqual({ ok: true });
    expect(got).toEqual(twin);
  });

  test("after a credit, an asynchronous limit admits no more than its twin (plus one call)", async () => {
    const t = guardTest();
    const admitted = { five: 0, fiveTwin: 0 };
    const call = async (name: "five" | "fiveTwin") => {
      if ((await t.mutation((ctx) => limiter.limit(ctx, name))).ok) admitted[name]++;
    };
    for (let i = 0; i < 5; i++) {
      await call("five");
      await call("fiveTwin");
    }
    await drainMaintenance(t);
    for (const name of ["five", "fiveTwin"] as const)
      await t.mutation((ctx) => limiter.credit(ctx, name, { count: 1 }));
    for (let round = 1; round <= 6; round++) {
      vi.setSystemTime(T0 + round * 3_000);
      for (let i = 0; i < 5; i++) {
        await call("five");
        await call("fiveTwin");
      }
      await drainMaintenance(t);
    }
    expect(admitted.fiveTwin).toBe(6);
    expect(admitted.five).toBeGreaterThanOrEqual(admitted.fiveTwin);
    expect(admitted.five).toBeLessThanOrEqual(admitted.fiveTwin + 1);
  });

  test("calls in one host transaction see each other: 30 calls on a capacity-10 bucket admit 11 at most", async () => {
    const t = guardTest();
    const results = await t.mutation(async (ctx) => {
      const out = [];
      for (let i = 0; i < 30; i++) out.push(await limiter.limit(ctx, "bucket"));
      return out;
    });
    const ok = results.filter((r) => r.ok).length;
    expect(ok).toBeGreaterThanOrEqual(10);
    expect(ok).toBeLessThanOrEqual(11);
    await drainMaintenance(t);
    expect((await t.mutation((ctx) => limiter.limit(ctx, "bucket"))).ok).toBe(false);
  });

  test("limitAll with an asynchronous limit decides as limit does and its calls see each other", async () => {
    const t = guardTest();
    const results = await t.mutation(async (ctx) => {
      const out = [];
      for (let i = 0; i < 30; i++) out.push(await limiter.limitAll(ctx, [{ name: "bucket" }]));
      return out;
    });
    const ok = results.filter((r) => r.ok).length;
    expect(ok).toBeGreaterThanOrEqual(10);
    expect(ok).toBeLessThanOrEqual(11);
  });

  test("reset of an asynchronous limit applies at once: a call decided before it never counts after it", async () => {
    const t = guardTest();
    for (let i = 0; i < 9; i++) await t.mutation((ctx) => limiter.limit(ctx, "bucket"));
    // In flight: decided on a snapshot from before the reset, committed with it.
    await t.mutation(async (ctx) => {
      await limiter.reset(ctx, "bucket");
      await limiter.limit(ctx, "bucket");
    });
    let ok = 0;
    for (let i = 0; i < 12; i++)
      if ((await t.mutation((ctx) => limiter.limit(ctx, "bucket"))).ok) ok++;
    // The full capacity again, plus the documented one-call overshoot of unfolded calls.
    expect(ok).toBe(11);
  });

  test("a reset's mark outlives the state folded after it: a call decided before the reset and committed later still never counts", async () => {
    const t = guardTest();
    for (let i = 0; i < 9; i++) await t.mutation((ctx) => limiter.limit(ctx, "bucket"));
    await drainMaintenance(t);
    await t.mutation((ctx) => limiter.reset(ctx, "bucket"));
    const [mark] = await runInGuard(t, (ctx) => ctx.db.query("rateLimits").collect());
    const resetAt = mark?.resetAt;
    if (typeof resetAt !== "bigint") throw new Error("expected the reset's mark on shard 0");
    // One call after the reset, folded; its state is idle again 6 s later (10 a minute).
    vi.setSystemTime(T0 + 1_000);
    expect((await t.mutation((ctx) => limiter.limit(ctx, "bucket"))).ok).toBe(true);
    vi.setSystemTime(T0 + 2_000);
    await drainMaintenance(t);
    // Past the state's idle time, well within the mark's hold: the sweep runs.
    vi.setSystemTime(T0 + 20_000);
    await drainMaintenance(t);
    // A call decided on a snapshot before the reset commits only now.
    await runInGuard(t, async (ctx) => {
      await ctx.db.insert("rateLimitPending", {
        name: "bucket",
        key: "",
        count: 10,
        ts: T0,
        config: limits.bucket,
        at: ctx.db.vars.commitTs,
        upTo: resetAt - 1n,
        applied: null,
      });
    });
    vi.setSystemTime(T0 + 21_000);
    await drainMaintenance(t);
    let ok = 0;
    for (let i = 0; i < 10; i++)
      if ((await t.mutation((ctx) => limiter.limit(ctx, "bucket"))).ok) ok++;
    expect(ok).toBe(10);
  });

  test("a key's state is not swept while calls decided on it are unfolded (found by the differential test)", async () => {
    const t = guardTest();
    const kind = { kind: "token bucket", rate: 1, period: MINUTE, capacity: 2 } as const;
    const configs = { twin: kind, async: { ...kind, ...async } };
    const results = [];
    for (const [at, count] of [
      [0, 1],
      [33_475, 1],
      [60_001, 2],
    ] as const) {
      vi.setSystemTime(T0 + at);
      // The fold of the call at 33.475 s and the sweep of the state it was
      // decided on (idle at 60 s) fall in the same pass.
      await drainMaintenance(t);
      const [twin, got] = [
        await t.mutation((ctx) => limiter.limit(ctx, "twinB", { count, config: configs.twin })),
        await t.mutation((ctx) => limiter.limit(ctx, "asyncB", { count, config: configs.async })),
      ];
      results.push([twin, got]);
    }
    for (const [twin, got] of results) expect(got).toEqual(twin);
  });

  test("credit of an asynchronous limit gives back calls not folded yet (found by the differential test)", async () => {
    const t = guardTest();
    await t.mutation((ctx) => limiter.limit(ctx, "bucket", { count: 10 }));
    const r = await t.mutation((ctx) => limiter.credit(ctx, "bucket", { count: 4 }));
    expect(r).toEqual({ credited: 4 });
    let ok = 0;
    for (let i = 0; i < 6; i++)
      if ((await t.mutation((ctx) => limiter.limit(ctx, "bucket"))).ok) ok++;
    expect(ok).toBe(5);
  });

  test("a reservation on an asynchronous sliding window is logged when its work may run, as its twin's", async () => {
    const t = guardTest();
    const results = [];
    for (const [at, count, reserve] of [
      [0, 10, false],
      [0, 1, true],
      [MINUTE + 1, 10, false],
    ] as const) {
      vi.setSystemTime(T0 + at);
      await drainMaintenance(t);
      const o = { count, reserve };
      results.push([
        await t.mutation((ctx) => limiter.limit(ctx, "windowTwin", { key: "r", ...o })),
        await t.mutation((ctx) => limiter.limit(ctx, "window", { key: "r", ...o })),
      ]);
    }
    for (const [twin, got] of results) expect(got).toEqual(twin);
  });
});
