/**
 * Calendar periods and quota state: DST days of 23 and 25 hours, midnight
 * skipped by a transition, February in common and leap years, 31-day months,
 * week starts, and a property test against a day-by-day reference.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  assertCalendar,
  localIso,
  nextPeriodStart,
  periodStart,
  type Calendar,
} from "../../src/component/rateLimits/calendar.js";
import {
  advanceQuota,
  initialQuota,
  quotaRemaining,
  quotaResetsAt,
} from "../../src/component/rateLimits/quota.js";

const HOUR = 3_600_000;
const NY = "America/New_York";
const cal = (per: Calendar["per"], timeZone = "UTC", weekStartsOn = 1): Calendar => ({
  per,
  timeZone,
  weekStartsOn,
});

/** Length of the period containing `t`, in hours. */
function hoursOf(c: Calendar, t: number): number {
  const s = periodStart(c, t);
  return (nextPeriodStart(c, s) - s) / HOUR;
}

describe("calendar periods", () => {
  test("New York days: 23 hours on spring-forward, 25 on fall-back, else 24", () => {
    const day = cal("day", NY);
    expect(hoursOf(day, Date.parse("2026-03-08T12:00:00-04:00"))).toBe(23);
    expect(hoursOf(day, Date.parse("2026-11-01T12:00:00-05:00"))).toBe(25);
    expect(hoursOf(day, Date.parse("2026-03-09T12:00:00-04:00"))).toBe(24);
    // The periods start at local midnight, on either side of the change.
    expect(localIso(NY, periodStart(day, Date.parse("2026-03-08T23:30:00-04:00")))).toBe(
      "2026-03-08T00:00:00-05:00",
    );
    expect(localIso(NY, nextPeriodStart(day, Date.parse("2026-03-08T05:00:00Z")))).toBe(
      "2026-03-09T00:00:00-04:00",
    );
    expect(localIso(NY, periodStart(day, Date.parse("2026-11-01T01:30:00-05:00")))).toBe(
      "2026-11-01T00:00:00-04:00",
    );
  });

  test("New York hours: the skipped hour does not exist, the repeated one is two periods", () => {
    const hour = cal("hour", NY);
    // 01:59 EST is followed by 03:00 EDT.
    const before = Date.parse("2026-03-08T01:30:00-05:00");
    expect(localIso(NY, nextPeriodStart(hour, periodStart(hour, before)))).toBe(
      "2026-03-08T03:00:00-04:00",
    );
    // 01:30 EDT and 01:30 EST are in different periods, an hour apart.
    const first = periodStart(hour, Date.parse("2026-11-01T01:30:00-04:00"));
    const second = periodStart(hour, Date.parse("2026-11-01T01:30:00-05:00"));
    expect(second - first).toBe(HOUR);
  });

  test("a day whose midnight is skipped starts at its first instant (Havana, 2026-03-08)", () => {
    const day = cal("day", "America/Havana");
    const start = periodStart(day, Date.parse("2026-03-08T12:00:00-04:00"));
    expect(localIso("America/Havana", start)).toBe("2026-03-08T01:00:00-04:00");
    expect(localIso("America/Havana", start - 1000)).toBe("2026-03-07T23:59:59-05:00");
  });

  test("months: February 2026 has 28 days, February 2028 29, January and March 31", () => {
    const month = cal("month", NY);
    const days = (iso: string) => hoursOf(month, Date.parse(iso)) / 24;
    expect(days("2026-02-15T12:00:00-05:00")).toBe(28);
    expect(days("2028-02-15T12:00:00-05:00")).toBe(29);
    expect(days("2026-01-31T23:59:59-05:00")).toBe(31);
    // March 2026 contains the spring-forward: 31 days less one hour.
    expect(hoursOf(month, Date.parse("2026-03-31T12:00:00-04:00"))).toBe(31 * 24 - 1);
    expect(localIso(NY, periodStart(month, Date.parse("2026-03-01T00:00:00-05:00")))).toBe(
      "2026-03-01T00:00:00-05:00",
    );
    expect(localIso(NY, periodStart(month, Date.parse("2026-02-28T23:59:59-05:00")))).toBe(
      "2026-02-01T00:00:00-05:00",
    );
    // December rolls into January of the next year.
    const dec = periodStart(month, Date.parse("2026-12-20T00:00:00-05:00"));
    expect(localIso(NY, nextPeriodStart(month, dec))).toBe("2027-01-01T00:00:00-05:00");
  });

  test("weeks start Monday by default, or on weekStartsOn", () => {
    const t = Date.parse("2026-12-03T10:00:00Z"); // a Thursday
    expect(new Date(periodStart(cal("week"), t)).toISOString()).toBe("2026-11-30T00:00:00.000Z");
    expect(new Date(periodStart(cal("week", "UTC", 0), t)).toISOString()).toBe(
      "2026-11-29T00:00:00.000Z",
    );
    expect(new Date(periodStart(cal("week", "UTC", 4), t)).toISOString()).toBe(
      "2026-12-03T00:00:00.000Z",
    );
    expect(hoursOf(cal("week", NY), Date.parse("2026-03-05T00:00:00-05:00"))).toBe(7 * 24 - 1);
  });

  test("every instant lies in exactly one period, and periods tile time (random zones)", () => {
    const zones = [
      "UTC",
      NY,
      "Europe/London",
      "Asia/Kolkata",
      "Australia/Lord_Howe",
      "America/Havana",
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom("hour", "day", "week", "month" as const),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: Date.parse("2000-01-01"), max: Date.parse("2040-01-01") }),
        (timeZone, per, weekStartsOn, t) => {
          const c = cal(per as Calendar["per"], timeZone, weekStartsOn);
          const s = periodStart(c, t);
          const e = nextPeriodStart(c, s);
          expect(s).toBeLessThanOrEqual(t);
          expect(e).toBeGreaterThan(t);
          expect(periodStart(c, e)).toBe(e);
          expect(periodStart(c, e - 1)).toBe(s);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("configs are checked: unknown zone, unit or week start is INVALID_CONFIG naming the field", () => {
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { data: { code: string; field: string } }).data;
      }
      return null;
    };
    expect(
      field(() => assertCalendar({ per: "day", timeZone: "Mars/Olympus" }, "l")),
    ).toMatchObject({
      code: "INVALID_CONFIG",
      field: "timeZone",
    });
    expect(field(() => assertCalendar({ per: "fortnight" }, "l"))).toMatchObject({ field: "per" });
    expect(field(() => assertCalendar({ per: "week", weekStartsOn: 7 }, "l"))).toMatchObject({
      field: "weekStartsOn",
    });
    expect(field(() => assertCalendar({ per: "day", weekStartsOn: 0 }, "l"))).toMatchObject({
      field: "weekStartsOn",
    });
    expect(assertCalendar({ per: "month" }, "l")).toEqual({
      per: "month",
      timeZone: "UTC",
      weekStartsOn: 1,
    });
  });
});

describe("quota state", () => {
  const p = { limit: 50, calendar: cal("day", NY) };

  test("usage resets at the next local midnight, also across a 23-hour day", () => {
    const t = Date.parse("2026-03-08T22:00:00-04:00");
    const st = { ...initialQuota(p, t), value: 37 };
    expect(quotaRemaining(p, advanceQuota(p, st, t))).toBe(13);
    expect(localIso(NY, quotaResetsAt(p, st))).toBe("2026-03-09T00:00:00-04:00");
    const next = advanceQuota(p, st, Date.parse("2026-03-09T00:00:00-04:00"));
    expect(quotaRemaining(p, next)).toBe(50);
    expect(advanceQuota(p, st, Date.parse("2026-03-08T23:59:59.999-04:00"))).toBe(st);
  });

  test("a reservation beyond the limit is charged to the following periods", () => {
    const t = Date.parse("2026-11-01T10:00:00-05:00");
    const st = { ...initialQuota(p, t), value: 120 }; // 70 over
    const day2 = advanceQuota(p, st, Date.parse("2026-11-02T09:00:00-05:00"));
    expect(quotaRemaining(p, day2)).toBe(-20);
    const day3 = advanceQuota(p, st, Date.parse("2026-11-03T09:00:00-05:00"));
    expect(quotaRemaining(p, day3)).toBe(30);
    const later = advanceQuota(p, st, Date.parse("2027-06-03T09:00:00-04:00"));
    expect(later).toEqual({ value: 0, ts: Date.parse("2027-06-03T00:00:00-04:00") });
  });
});
