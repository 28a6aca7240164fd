/**
 * Calendar quotas through the component: limit, reserve, credit, limitAll and
 * getValue, across local midnights (including a 23-hour day) and month ends.
 */
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MINUTE, RateLimiter } from "convex-guard";
import { localIso } from "../../src/component/rateLimits/calendar.js";
import { components, guardTest } from "../setup.js";

const limiter = new RateLimiter(components.guard, {
  dailyMessages: { kind: "quota", limit: 50, per: "day", timeZone: "America/New_York" },
  monthlyBudget: { kind: "quota", limit: 500, per: "month", maxReserved: 200 },
  perMinute: { kind: "sliding window", rate: 100, period: MINUTE },
  dailyDebt: {
    kind: "quota",
    limit: 1,
    per: "day",
    timeZone: "America/New_York",
    maxReserved: 1000,
  },
  chathamHourly: { kind: "quota", limit: 1, per: "hour", timeZone: "Pacific/Chatham" },
});

const NY = "America/New_York";
// 22:00 in New York on the day clocks spring forward (a 23-hour day).
const T0 = Date.parse("2026-03-08T22:00:00-04:00");

describe("calendar quotas", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  test("limit counts per local day and denies until the next local midnight", async () => {
    const t = guardTest();
    const send = (count = 1) =>
      t.mutation(async (ctx) => limiter.limit(ctx, "dailyMessages", { key: "u", count }));
    expect(await send(37)).toEqual({ ok: true });
    const v = await t.query(async (ctx) => limiter.getValue(ctx, "dailyMessages", { key: "u" }));
    expect(v).toMatchObject({
      value: 13,
      used: 37,
      limit: 50,
      resetsAt: Date.parse("2026-03-09T00:00:00-04:00"),
      resetsAtLocal: "2026-03-09T00:00:00-04:00",
    });
    expect(await send(13)).toEqual({ ok: true });
    // Two hours to local midnight.
    expect(await send()).toEqual({ ok: false, retryAfter: 2 * 60 * MINUTE });
    vi.setSystemTime(Date.parse("2026-03-09T00:00:00-04:00") - 1);
    expect((await send()).ok).toBe(false);
    vi.setSystemTime(Date.parse("2026-03-09T00:00:00-04:00"));
    expect(await send(50)).toEqual({ ok: true });
  });

  test("a denied call with throws: true carries the retryAfter to the next period", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "dailyMessages", { key: "u", count: 50 }));
    const err = await t
      .mutation(async (ctx) => limiter.limit(ctx, "dailyMessages", { key: "u", throws: true }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConvexError);
    expect((err as ConvexError<{ retryAfter: number }>).data.retryAfter).toBe(2 * 60 * MINUTE);
  });

  test("reserve charges the next month; credit gives back; the 1st resets", async () => {
    vi.setSystemTime(Date.parse("2026-01-31T12:00:00Z"));
    const t = guardTest();
    const spend = (count: number, reserve = false) =>
      t.mutation(async (ctx) => limiter.limit(ctx, "monthlyBudget", { count, reserve }));
    expect(await spend(450)).toEqual({ ok: true });
    expect((await spend(100)).ok).toBe(false);
    // Reserving 100: 50 over, paid when February starts.
    const r = await spend(100, true);
    expect(r).toEqual({ ok: true, retryAfter: Date.parse("2026-02-01T00:00:00Z") - Date.now() });
    expect(
      await t.mutation(async (ctx) => limiter.credit(ctx, "monthlyBudget", { count: 30 })),
    ).toEqual({ credited: 30 });
    vi.setSystemTime(Date.parse("2026-02-01T00:00:00Z"));
    const feb = await t.query(async (ctx) => limiter.getValue(ctx, "monthlyBudget"));
    expect(feb).toMatchObject({ used: 20, value: 480, resetsAtLocal: "2026-03-01T00:00:00+00:00" });
  });

  test("limitAll combines a quota with a sliding window, all or nothing", async () => {
    const t = guardTest();
    const both = () =>
      t.mutation(async (ctx) =>
        limiter.limitAll(ctx, [
          { name: "dailyMessages", key: "u", count: 30 },
          { name: "perMinute", key: "u", count: 30 },
        ]),
      );
    expect((await both()).ok).toBe(true);
    const denied = await both();
    expect(denied.ok).toBe(false);
    const v = await t.query(async (ctx) => limiter.getValue(ctx, "perMinute", { key: "u" }));
    expect(v.value).toBe(70);
  });

  test("an hourly quota in Chatham admits in the 15-minute local hour 03 when clocks go forward", async () => {
    // 2026-09-27: 02:45 (+12:45) becomes 03:45 (+13:45).
    const t = guardTest();
    const call = (iso: string) => {
      vi.setSystemTime(Date.parse(iso));
      return t.mutation(async (ctx) => limiter.limit(ctx, "chathamHourly", { key: "u" }));
    };
    expect(await call("2026-09-27T02:30:00+12:45")).toEqual({ ok: true });
    expect(await call("2026-09-27T02:44:59+12:45")).toEqual({ ok: false, retryAfter: 1000 });
    expect(await call("2026-09-27T03:50:00+13:45")).toEqual({ ok: true });
    expect(await call("2026-09-27T03:55:00+13:45")).toEqual({ ok: false, retryAfter: 5 * MINUTE });
    expect(await call("2026-09-27T04:00:00+13:45")).toEqual({ ok: true });
  });

  test("quota debt costs no work per period it spans (1, 10 and 1,000 days; reserve, then a plain call)", async () => {
    // Fake only Date: faked timers wrap Intl, whose calls this test counts.
    vi.useRealTimers();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const reads = vi.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    const debt = async (key: string, count: number) => {
      const t = guardTest();
      reads.mockClear();
      const reserved = await t.mutation(async (ctx) =>
        limiter.limit(ctx, "dailyDebt", { key, count, reserve: true }),
      );
      const next = await t.mutation(async (ctx) => limiter.limit(ctx, "dailyDebt", { key }));
      return { reserved, next, reads: reads.mock.calls.length };
    };
    /** Local midnight in New York, `days` after 2026-03-09, as it reads there. */
    const midnight = (days: number) =>
      `${new Date(Date.UTC(2026, 2, 9 + days)).toISOString().slice(0, 10)}T00:00:00`;
    const at = (r: { retryAfter?: number }) =>
      localIso(NY, T0 + (r.retryAfter ?? NaN)).slice(0, 19);
    const one = await debt("a", 2);
    const ten = await debt("c", 11);
    const thousand = await debt("b", 1001);
    reads.mockRestore();
    // Paid off when the 1st and the 1,000th local day after today start.
    expect(one.reserved.ok && at(one.reserved)).toBe(midnight(0));
    expect(thousand.reserved.ok && at(thousand.reserved)).toBe(midnight(999));
    expect(thousand.next.ok).toBe(false);
    expect(at(thousand.next)).toBe(midnight(1000));
    // No work per period: 100 times the periods of debt cost under 3 times the
    // readings (the searches for retry and idle times take log-many steps).
    // Measured: 191, 343 and 758 readings for 1, 10 and 1,000 days (a loop
    // over periods read the zone 363,263 times for 1,000 days).
    expect(thousand.reads).toBeLessThan(3 * ten.reads);
    expect(thousand.reads).toBeLessThan(1000);
    expect(one.reads).toBeLessThanOrEqual(ten.reads);
    // More than 1,000 periods' limit is a config error.
    const t = guardTest();
    const err = await t
      .mutation(async (ctx) =>
        ctx.runMutation(components.guard.rateLimits.limit, {
          name: "q",
          config: { kind: "quota", limit: 2, per: "day", maxReserved: 2001 },
        }),
      )
      .catch((e: ConvexError<{ code: string; field?: string }>) => e.data);
    expect(err).toMatchObject({ code: "INVALID_CONFIG", field: "maxReserved" });
  });

  test("configs are validated: unknown zone, bad limit, weekStartsOn on a daily quota", async () => {
    const t = guardTest();
    const bad = (config: unknown) =>
      t
        .mutation(async (ctx) =>
          ctx.runMutation(components.guard.rateLimits.limit, { name: "q", config } as never),
        )
        .catch((e: ConvexError<{ code: string; field?: string }>) => e.data);
    expect(
      await bad({ kind: "quota", limit: 5, per: "day", timeZone: "Nowhere/City" }),
    ).toMatchObject({ code: "INVALID_CONFIG", field: "timeZone" });
    expect(await bad({ kind: "quota", limit: -1, per: "day" })).toMatchObject({ field: "limit" });
    expect(await bad({ kind: "quota", limit: 5, per: "day", weekStartsOn: 0 })).toMatchObject({
      field: "weekStartsOn",
    });
  });
});
