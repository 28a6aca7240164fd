/**
 * Usage stats: counts per hour, day and key match a tally of what `limit`
 * answered, over random call sequences, clocks and maintenance timings; the
 * top denied keys; input checks; and what recording costs a call.
 */
import fc from "fast-check";
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { DAY, HOUR, MINUTE, RateLimiter, type RateLimitConfig } from "convex-guard";
import { dumpComponent } from "../codes/helpers.js";
import { STATS_DELAY_MS } from "../../src/component/rateLimits/stats.js";
import { components, drainMaintenance, guardTest, measure, rw } from "../setup.js";

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0); // an hour start
const limits = {
  send: { kind: "token bucket", rate: 3, period: MINUTE, stats: true },
  sharded: { kind: "fixed window", rate: 8, period: 10 * MINUTE, shards: 4, stats: true },
  hot: {
    kind: "token bucket",
    rate: 3,
    period: MINUTE,
    applyUpdates: "asynchronously",
    stats: true,
  },
  quiet: { kind: "token bucket", rate: 3, period: MINUTE },
  daily: { kind: "quota", limit: 50, per: "day", stats: true },
} satisfies Record<string, RateLimitConfig>;
const limiter = new RateLimiter(components.guard, limits);

type Tally = Map<string, { allowed: number; denied: number; consumed: number }>;
function bump(tally: Tally, id: string, ok: boolean, count: number) {
  const c = tally.get(id) ?? { allowed: 0, denied: 0, consumed: 0 };
  if (ok) {
    c.allowed += 1;
    c.consumed += count;
  } else c.denied += 1;
  tally.set(id, c);
}

describe("usage stats", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  test("counts per hour, day and key; top denied keys; completeUntil", async () => {
    const t = guardTest();
    const send = (key: string, count = 1) =>
      t.mutation((ctx) => limiter.limit(ctx, "send", { key, count }));
    for (let i = 0; i < 5; i++) await send("alice"); // 3 allowed, 2 denied
    for (let i = 0; i < 8; i++) await send("mallory"); // 3 allowed, 5 denied
    await send("bob", 2); // allowed, consumes 2
    vi.setSystemTime(T0 + HOUR + 5 * MINUTE);
    await send("alice"); // next hour: the first call rolls the previous hour over
    const before = await t.query((ctx) =>
      limiter.stats(ctx, { name: "send", from: T0, to: T0 + 2 * HOUR }),
    );
    expect(before.completeUntil).toBe(T0);
    vi.setSystemTime(T0 + 2 * HOUR + STATS_DELAY_MS);
    await drainMaintenance(t);
    const s = await t.query((ctx) =>
      limiter.stats(ctx, { name: "send", from: T0, to: T0 + 2 * HOUR, top: 2 }),
    );
    expect(s.hours).toEqual([
      { hour: T0, allowed: 7, denied: 7, consumed: 8 },
      { hour: T0 + HOUR, allowed: 1, denied: 0, consumed: 1 },
    ]);
    expect(s.days).toEqual([{ day: T0 - 10 * HOUR, allowed: 8, denied: 7, consumed: 9 }]);
    expect(s.total).toEqual({ allowed: 8, denied: 7, consumed: 9 });
    expect(s.topDenied).toEqual([
      { key: "mallory", allowed: 3, denied: 5, consumed: 3 },
      { key: "alice", allowed: 4, denied: 2, consumed: 4 },
    ]);
    expect(s.topDeniedExact).toBe(true);
    expect(s.completeUntil).toBe(T0 + 2 * HOUR);
    const alice = await t.query((ctx) =>
      limiter.stats(ctx, { name: "send", key: "alice", from: T0, to: T0 + DAY }),
    );
    expect(alice.hours.map((h) => [h.allowed, h.denied])).toEqual([
      [3, 2],
      [1, 0],
    ]);
    expect(alice.topDenied).toEqual([]);
    // A limit without `stats` records nothing.
    await t.mutation((ctx) => limiter.limit(ctx, "quiet", { key: "x" }));
    const quiet = await t.query((ctx) =>
      limiter.stats(ctx, { name: "quiet", from: T0, to: T0 + DAY }),
    );
    expect(quiet.hours).toEqual([]);
  });

  test("top denied ranking is marked inexact when an hour has more denied keys than top", async () => {
    const t = guardTest();
    for (const [key, n] of [
      ["a", 6],
      ["b", 5],
      ["c", 4],
    ] as const) {
      for (let i = 0; i < n; i++) await t.mutation((ctx) => limiter.limit(ctx, "send", { key }));
    }
    vi.setSystemTime(T0 + HOUR + STATS_DELAY_MS);
    await drainMaintenance(t);
    const s = await t.query((ctx) =>
      limiter.stats(ctx, { name: "send", from: T0, to: T0 + HOUR, top: 2 }),
    );
    expect(s.topDenied.map((k) => [k.key, k.denied])).toEqual([
      ["a", 3],
      ["b", 2],
    ]);
    expect(s.topDeniedExact).toBe(false);
  });

  test("reset of an asynchronous limit still counts the calls it had admitted", async () => {
    // Its admissions are still unfolded rows when `reset` deletes them; the
    // calls were answered ok, so they must show in the stats all the same.
    const t = guardTest();
    await t.mutation((ctx) => limiter.limit(ctx, "hot", { key: "k1", count: 2 }));
    await t.mutation((ctx) => limiter.reset(ctx, "hot", { key: "k1" }));
    vi.setSystemTime(T0 + HOUR + STATS_DELAY_MS);
    await drainMaintenance(t);
    const s = await t.query((ctx) =>
      limiter.stats(ctx, { name: "hot", key: "k1", from: T0, to: T0 + HOUR }),
    );
    expect(s.hours).toEqual([{ hour: T0, allowed: 1, denied: 0, consumed: 2 }]);
  });

  test("random sequences: stats equal a tally of the results", async () => {
    const op = fc.record({
      dt: fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 50 * MINUTE })),
      name: fc.constantFrom("send", "sharded", "hot"),
      key: fc.constantFrom("k1", "k2", "k3"),
      count: fc.integer({ min: 0, max: 3 }),
      maintain: fc.boolean(),
      reset: fc.integer({ min: 0, max: 30 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: HOUR - 1 }),
        async (ops, offset) => {
          const t = guardTest();
          let now = T0 + offset;
          vi.setSystemTime(now);
          const byName: Tally = new Map();
          const byKey: Tally = new Map();
          for (const o of ops) {
            now += o.dt;
            vi.setSystemTime(now);
            if (o.maintain) await drainMaintenance(t);
            if (o.reset === 0) {
              await t.mutation((ctx) => limiter.reset(ctx, o.name, { key: o.key }));
            }
            const r = await t.mutation((ctx) =>
              limiter.limit(ctx, o.name as "send", { key: o.key, count: o.count }),
            );
            const hour = Math.floor(now / HOUR) * HOUR;
            if (o.count === 0) continue; // takes nothing: not counted
            bump(byName, `${o.name}|${hour}`, r.ok, o.count);
            bump(byKey, `${o.name}|${o.key}|${hour}`, r.ok, o.count);
          }
          now = Math.floor(now / HOUR) * HOUR + HOUR + STATS_DELAY_MS;
          vi.setSystemTime(now);
          await drainMaintenance(t);
          const from = T0;
          const to = now;
          for (const name of ["send", "sharded", "hot"]) {
            const s = await t.query((ctx) => limiter.stats(ctx, { name, from, to, top: 3 }));
            expect(s.completeUntil).toBe(Math.floor(now / HOUR) * HOUR);
            const want = [...byName]
              .filter(([id]) => id.startsWith(`${name}|`))
              .map(([id, c]) => ({ hour: Number(id.split("|")[1]), ...c }))
              .sort((a, b) => a.hour - b.hour);
            expect(s.hours).toEqual(want);
            for (const key of ["k1", "k2", "k3"]) {
              const k = await t.query((ctx) => limiter.stats(ctx, { name, key, from, to }));
              const wantKey = [...byKey]
                .filter(([id]) => id.startsWith(`${name}|${key}|`))
                .map(([id, c]) => ({ hour: Number(id.split("|")[2]), ...c }))
                .sort((a, b) => a.hour - b.hour);
              expect(k.hours).toEqual(wantKey);
              const denied = wantKey.reduce((n, h) => n + h.denied, 0);
              const ranked = s.topDenied.find((d) => d.key === key);
              expect(ranked?.denied ?? 0).toBe(denied);
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  test("days split at the midnights of `timeZone`, UTC by default", async () => {
    // New York is UTC-5 in January: its 2026-01-15 starts at 05:00 UTC.
    const t = guardTest();
    const nyMidnight = Date.UTC(2026, 0, 15, 5);
    for (const at of [nyMidnight - HOUR, nyMidnight, nyMidnight + HOUR]) {
      vi.setSystemTime(at);
      await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "k" }));
    }
    vi.setSystemTime(nyMidnight + 2 * HOUR + STATS_DELAY_MS);
    await drainMaintenance(t);
    const range = { name: "send", from: nyMidnight - DAY, to: nyMidnight + DAY };
    const ny = await t.query((ctx) =>
      limiter.stats(ctx, { ...range, timeZone: "America/New_York" }),
    );
    expect(ny.days.map((d) => [d.day, d.allowed])).toEqual([
      [nyMidnight - DAY, 1],
      [nyMidnight, 2],
    ]);
    const utc = await t.query((ctx) => limiter.stats(ctx, range));
    expect(utc.days.map((d) => [d.day, d.allowed])).toEqual([[Date.UTC(2026, 0, 15), 3]]);
    expect(ny.hours).toEqual(utc.hours);
  });

  test("bad arguments get a coded error", async () => {
    const t = guardTest();
    await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "k" }));
    const before = await dumpComponent(t);
    const code = (args: Record<string, unknown>) =>
      t
        .query((ctx) => limiter.stats(ctx, { name: "send", from: T0, to: T0 + HOUR, ...args }))
        .then(
          () => "no error",
          (e: ConvexError<{ code: string }>) => e.data.code,
        );
    expect(await code({ from: Number.NaN })).toBe("INVALID_ARGUMENT");
    expect(await code({ to: Infinity })).toBe("INVALID_ARGUMENT");
    expect(await code({ from: -1 })).toBe("INVALID_ARGUMENT");
    expect(await code({ to: T0 })).toBe("INVALID_ARGUMENT");
    expect(await code({ to: T0 + 32 * DAY })).toBe("INVALID_ARGUMENT");
    expect(await code({ top: 0 })).toBe("INVALID_ARGUMENT");
    expect(await code({ top: 26 })).toBe("INVALID_ARGUMENT");
    expect(await code({ top: 1.5 })).toBe("INVALID_ARGUMENT");
    expect(await code({ key: "" })).toBe("INVALID_ARGUMENT");
    expect(await code({ key: "k".repeat(300) })).toBe("TOO_LARGE");
    expect(await code({ name: "" })).toBe("INVALID_ARGUMENT");
    expect(await code({ name: "guard:x" })).toBe("INVALID_ARGUMENT");
    expect(await code({ timeZone: "Mars/Olympus_Mons" })).toBe("INVALID_ARGUMENT");
    expect(await code({ timeZone: "x".repeat(100) })).toBe("INVALID_ARGUMENT");
    expect(await code({ to: T0 + 31 * DAY })).toBe("no error");
    expect(await code({ timeZone: "Europe/Berlin" })).toBe("no error");
    const badConfig = t.mutation((ctx) =>
      limiter.limit(ctx, "x", {
        config: { kind: "token bucket", rate: 1, period: 1, stats: "yes" as never },
      }),
    );
    await expect(badConfig).rejects.toMatchObject({ data: { code: "INVALID_CONFIG" } });
    expect(await dumpComponent(t)).toEqual(before);
  });

  test("cost: an admitted call pays nothing more within an hour; a denial appends one row", async () => {
    const t = guardTest();
    await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "k" }));
    await t.mutation((ctx) => limiter.limit(ctx, "quiet", { key: "k" }));
    const on = await measure(t, (ctx) => limiter.limit(ctx, "send", { key: "k" }));
    const off = await measure(t, (ctx) => limiter.limit(ctx, "quiet", { key: "k" }));
    expect(rw(on.cost)).toEqual(rw(off.cost));
    expect(rw(on.cost)).toEqual({ read: 2, written: 1 });
    await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "k" }));
    const denied = await measure(t, (ctx) => limiter.limit(ctx, "send", { key: "k" }));
    expect(denied.result.ok).toBe(false);
    // The shard read, the append; the maintenance check reads on a stale snapshot.
    expect(rw(denied.cost)).toEqual({ read: 2, written: 1 });
    // A key still active when its hour ends (a quota's state lives all day).
    await t.mutation((ctx) => limiter.limit(ctx, "daily", { key: "k" }));
    vi.setSystemTime(T0 + HOUR - MINUTE);
    await drainMaintenance(t); // as the deployment's loop would have run meanwhile
    vi.setSystemTime(T0 + HOUR);
    const rollover = await measure(t, (ctx) => limiter.limit(ctx, "daily", { key: "k" }));
    expect(rollover.result.ok).toBe(true);
    // Once per key and hour: the previous hour's counters appended as a row.
    expect(rw(rollover.cost)).toEqual({ read: 3, written: 2 });
  });

  test("cost: one pass folds 50 keys' hour (2 allowed, 2 denied each)", async () => {
    const t = guardTest();
    const quota = new RateLimiter(components.guard, {
      d: { kind: "quota", limit: 2, per: "day", stats: true },
    });
    for (let k = 0; k < 50; k++) {
      for (let i = 0; i < 4; i++)
        await t.mutation((ctx) => quota.limit(ctx, "d", { key: `k${k}` }));
    }
    vi.setSystemTime(T0 + HOUR + STATS_DELAY_MS);
    const pass = await measure(t, (ctx) =>
      ctx.runMutation(components.guard.maintenance.runNow, {}),
    );
    expect(pass.result).toMatchObject({ rateLimits: 150, more: false });
    // 50 documents read and patched, 100 rows read and deleted, 51 aggregates inserted, the loop state.
    expect(rw(pass.cost)).toEqual({ read: 306, written: 202 });
    const s = await t.query((ctx) => quota.stats(ctx, { name: "d", from: T0, to: T0 + HOUR }));
    expect(s.total).toEqual({ allowed: 100, denied: 100, consumed: 100 });
  });
});
