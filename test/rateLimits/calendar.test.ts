/**
 * Calendar periods and quota state: DST days of 23 and 25 hours, midnight
 * skipped by a transition, February in common and leap years, 31-day months,
 * week starts, and a property test against a day-by-day reference.
 */
import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import {
  assertCalendar,
  localIso,
  nextPeriodStart,
  periodStart,
  uncached,
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

const SECOND = 1000;
const cached = { periodStart, nextPeriodStart };

/** The wall clock at `t` as Intl reads it, and the offset: the reference for a period's label. */
const readers = new Map<string, Intl.DateTimeFormat>();
function reading(timeZone: string, t: number) {
  const f =
    readers.get(timeZone) ??
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  readers.set(timeZone, f);
  const n: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(t))) n[p.type] = Number(p.value);
  const [y, m, d, h] = [n.year ?? 0, n.month ?? 0, n.day ?? 0, n.hour ?? 0];
  const wall = Date.UTC(y, m - 1, d, h, n.minute ?? 0, n.second ?? 0);
  return { y, m, d, h, offset: wall - Math.floor(t / SECOND) * SECOND };
}

/** What a period is: a local hour at one offset, a local date, a week, a local month. */
function label(c: Calendar, t: number): string {
  const r = reading(c.timeZone, t);
  switch (c.per) {
    case "hour":
      return `${r.y}-${r.m}-${r.d} ${r.h} ${r.offset}`;
    case "day":
      return `${r.y}-${r.m}-${r.d}`;
    case "week": {
      const date = Date.UTC(r.y, r.m - 1, r.d);
      const back = (new Date(date).getUTCDay() - c.weekStartsOn + 7) % 7;
      return new Date(date - back * 24 * HOUR).toISOString();
    }
    case "month":
      return `${r.y}-${r.m}`;
  }
}

/**
 * `t` lies in one period [s, e) that starts and ends where the label changes,
 * holds one label, and is followed and preceded by periods that meet it.
 */
function assertTiles(c: Calendar, t: number) {
  const where = `${c.per} in ${c.timeZone} (weekStartsOn ${c.weekStartsOn}) at ${new Date(t).toISOString()}`;
  const { periodStart, nextPeriodStart } = uncached;
  const s = periodStart(c, t);
  const e = nextPeriodStart(c, s);
  // The memo of recent periods agrees with the searches.
  expect([cached.periodStart(c, t), cached.nextPeriodStart(c, t)], where).toEqual([s, e]);
  expect(s <= t && t < e, where).toBe(true);
  expect(periodStart(c, e), where).toBe(e);
  expect(periodStart(c, e - 1), where).toBe(s);
  expect(nextPeriodStart(c, t), where).toBe(e);
  expect(nextPeriodStart(c, periodStart(c, s - 1)), where).toBe(s);
  const l = label(c, t);
  for (const u of [s, e - 1, Math.floor(s + (e - s) / 2)]) expect(label(c, u), where).toBe(l);
  expect(label(c, s - 1), where).not.toBe(l);
  expect(label(c, e), where).not.toBe(l);
}

/**
 * Spans [a, b] of 120 days, 1900-2040, across which the zone's offset changes:
 * a sample of its transitions (pairs closer than that may be missed).
 */
function changesOf(timeZone: string): [number, number][] {
  const out: [number, number][] = [];
  const step = 120 * 24 * HOUR;
  let a = Date.UTC(1900, 0, 1);
  let before = reading(timeZone, a).offset;
  for (let b = a + step; b < Date.UTC(2040, 0, 1); a = b, b += step) {
    const after = reading(timeZone, b).offset;
    if (after !== before) out.push([a, b]);
    before = after;
  }
  return out;
}

/** The first second in (a, b] whose offset differs from the offset at `a`. */
function transitionIn(timeZone: string, [a, b]: [number, number]): number {
  const before = reading(timeZone, a).offset;
  let [lo, hi] = [a, b];
  while (hi - lo > SECOND) {
    const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
    if (reading(timeZone, mid).offset === before) lo = mid;
    else hi = mid;
  }
  return hi;
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

  /** The periods of `c` from the one containing `from`, as [local start, minutes long]. */
  function walk(c: Calendar, from: string, n: number): [string, number][] {
    const out: [string, number][] = [];
    let s = periodStart(c, Date.parse(from));
    for (let i = 0; i < n; i++) {
      const e = nextPeriodStart(c, s);
      out.push([localIso(c.timeZone, s), (e - s) / 60_000]);
      s = e;
    }
    return out;
  }

  test("Lord Howe hours tile across its half-hour shifts (2038-10-02T14:30Z)", () => {
    // Spring forward at 02:00 (+10:30) to 02:30 (+11:00): local hour 02 lasts 30 minutes.
    expect(walk(cal("hour", "Australia/Lord_Howe"), "2038-10-02T14:30:00Z", 3)).toEqual([
      ["2038-10-03T01:00:00+10:30", 60],
      ["2038-10-03T02:30:00+11:00", 30],
      ["2038-10-03T03:00:00+11:00", 60],
    ]);
    const c = cal("hour", "Australia/Lord_Howe");
    expect(periodStart(c, Date.parse("2038-10-02T15:29:59.999Z"))).toBe(
      Date.parse("2038-10-02T14:30:00Z"),
    );
    // Fall back at 02:00 (+11:00) to 01:30 (+10:30): the repeated half hour is its own period.
    expect(walk(c, "2038-04-03T14:00:00Z", 3)).toEqual([
      ["2038-04-04T01:00:00+11:00", 60],
      ["2038-04-04T01:30:00+10:30", 30],
      ["2038-04-04T02:00:00+10:30", 60],
    ]);
  });

  test("Chatham's local hour 03 lasts 15 minutes on 2026-09-27 and is its own period", () => {
    // 02:45 (+12:45) becomes 03:45 (+13:45).
    expect(walk(cal("hour", "Pacific/Chatham"), "2026-09-26T13:15:00Z", 3)).toEqual([
      ["2026-09-27T02:00:00+12:45", 45],
      ["2026-09-27T03:45:00+13:45", 15],
      ["2026-09-27T04:00:00+13:45", 60],
    ]);
    expect(walk(cal("day", "Pacific/Chatham"), "2026-09-27T12:00:00+13:45", 1)).toEqual([
      ["2026-09-27T00:00:00+12:45", 23 * 60],
    ]);
  });

  test("Kathmandu's move from +05:30 to +05:45 (1986) leaves a 45-minute hour", () => {
    expect(walk(cal("hour", "Asia/Kathmandu"), "1985-12-31T18:00:00Z", 2)).toEqual([
      ["1985-12-31T23:00:00+05:30", 60],
      ["1986-01-01T00:15:00+05:45", 45],
    ]);
    expect(walk(cal("day", "Asia/Kathmandu"), "1986-01-01T12:00:00+05:45", 1)).toEqual([
      ["1986-01-01T00:15:00+05:45", 24 * 60 - 15],
    ]);
  });

  test("Recife's one week of daylight saving (2000-10-08 to 10-15) inside a week and a month", () => {
    // Two transitions 7 days apart that return to -03:00: the search may step over both.
    for (const per of ["hour", "day", "week", "month"] as const) {
      for (
        let t = Date.parse("2000-09-28T00:00:00Z");
        t < Date.parse("2000-11-03");
        t += 5 * HOUR
      ) {
        assertTiles(cal(per, "America/Recife"), t);
      }
    }
    expect(walk(cal("day", "America/Recife"), "2000-10-08T12:00:00-02:00", 1)).toEqual([
      // Clocks went from 00:00 to 01:00: the day starts at its first instant.
      ["2000-10-08T01:00:00-02:00", 23 * 60],
    ]);
  });

  test("every period kind in every zone tiles time around the zone's transitions", () => {
    const zones = ["UTC", ...Intl.supportedValuesOf("timeZone")];
    const changes = new Map(zones.map((z) => [z, changesOf(z)]));
    const kinds = ["hour", "day", "week", "month"] as const;
    fc.assert(
      fc.property(
        fc.nat(),
        fc.constantFrom(...kinds),
        fc.integer({ min: 0, max: 6 }),
        fc.oneof(
          fc.constantFrom(-1, 0, 1, -SECOND, SECOND),
          fc.integer({ min: -3 * HOUR, max: 3 * HOUR }),
          fc.integer({ min: -40 * 24 * HOUR, max: 40 * 24 * HOUR }),
        ),
        (pick, per, weekStartsOn, delta) => {
          zones.forEach((zone, i) => {
            const spans = changes.get(zone) ?? [];
            const span = spans[pick % Math.max(1, spans.length)];
            const at = span ? transitionIn(zone, span) : Date.parse("2026-06-01");
            // Each run gives every kind to a quarter of the zones.
            const kind = kinds[(kinds.indexOf(per) + i) % kinds.length] ?? per;
            assertTiles(cal(kind, zone, weekStartsOn), at + delta);
          });
        },
      ),
      { numRuns: 16 },
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

  test("100,000 days of debt are carried in closed form: the result is exact, the work constant", () => {
    const reads = vi.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    const t = Date.parse("2026-11-01T10:00:00-05:00");
    const st = { ...initialQuota(p, t), value: 50 * 100_000 }; // paid off in 100,000 days
    const readsFor = (later: number) => {
      reads.mockClear();
      const out = advanceQuota(p, st, later);
      return { out, reads: reads.mock.calls.length };
    };
    const day = 24 * HOUR;
    const nearly = readsFor(t + 99_998 * day + 12 * HOUR);
    expect(nearly.out).toEqual({ value: 100, ts: periodStart(p.calendar, t + 99_998 * day) });
    const after = readsFor(t + 100_001 * day);
    expect(after.out).toEqual({ value: 0, ts: periodStart(p.calendar, t + 100_001 * day) });
    const next = readsFor(t + day);
    expect(next.out.value).toBe(50 * 100_000 - 50);
    // The same offset readings whether the debt spans one day or 100,000.
    expect(nearly.reads).toBe(next.reads);
    expect(after.reads).toBe(next.reads);
    expect(next.reads).toBeLessThanOrEqual(8);
    reads.mockRestore();
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
