/**
 * Calendar periods (hour, day, week, month) in an IANA time zone, for quotas.
 *
 * Convex's isolate runtime loads ICU's full common data (convex-backend
 * crates/isolate/src/client.rs: `v8::icu::set_common_data_77`), so
 * `Intl.DateTimeFormat` knows every IANA zone and its daylight-saving rules,
 * as it does in Node and browsers.
 */
import { ErrorCode, guardError } from "../lib/errors.js";
import { abs, floor, max, min, round } from "../lib/math.js";

export type CalendarUnit = "hour" | "day" | "week" | "month";
export const CALENDAR_UNITS: readonly CalendarUnit[] = ["hour", "day", "week", "month"];

export type Calendar = {
  per: CalendarUnit;
  /** IANA zone name; "UTC" by default. */
  timeZone: string;
  /** 0 = Sunday ... 6 = Saturday; 1 (Monday) by default. */
  weekStartsOn: number;
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Nominal lengths, for messages and the idle horizon (a month is taken as 31 days). */
export const NOMINAL_LENGTH: Record<CalendarUnit, number> = {
  hour: HOUR,
  day: DAY,
  week: 7 * DAY,
  month: 31 * DAY,
};

type Parts = { y: number; m: number; d: number; h: number; min: number; s: number };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** An IANA zone name this runtime knows, of a sane length (what `timeZone` options accept). */
export function isZoneName(timeZone: string): boolean {
  return timeZone.length <= 64 && isTimeZone(timeZone);
}

/** Is `timeZone` a zone this runtime knows? */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's wall-clock reading at instant `t`. */
function localParts(timeZone: string, t: number): Parts {
  if (timeZone === "UTC") {
    const d = new Date(t);
    return {
      y: d.getUTCFullYear(),
      m: d.getUTCMonth() + 1,
      d: d.getUTCDate(),
      h: d.getUTCHours(),
      min: d.getUTCMinutes(),
      s: d.getUTCSeconds(),
    };
  }
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) {
    if (p.type !== "literal") out[p.type] = Number(p.value);
  }
  const field = (type: string): number => {
    const x = out[type];
    if (x === undefined)
      throw guardError(ErrorCode.INTERNAL, `Intl gave no ${type} in ${timeZone}`);
    return x;
  };
  return {
    y: field("year"),
    m: field("month"),
    d: field("day"),
    h: field("hour") % 24,
    min: field("minute"),
    s: field("second"),
  };
}

/** The zone's offset from UTC at `t`, in ms (whole seconds). */
function offsetAt(timeZone: string, t: number): number {
  if (timeZone === "UTC") return 0;
  const p = localParts(timeZone, t);
  const wall = Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s);
  return wall - (t - (((t % 1000) + 1000) % 1000));
}

/*
 * A period is a maximal run of instants with the same label: the local date
 * (day), the week containing it (week), the local year and month (month), or
 * the local hour together with the offset (hour: a repeated hour is two
 * periods, and an hour a transition cuts short is a period of its own, however
 * short). Labels are functions of the wall clock `t + offset`, and the offset is
 * constant between transitions, so a period's bounds are found by arithmetic
 * within the offset in force plus a search for the transitions in between.
 *
 * Transitions fall on whole seconds (tzdb's resolution). The search reads
 * the offset at both ends of a window and at most CHUNK apart in between, so
 * it may step over two transitions that return to the same offset within
 * CHUNK. That moves no bound: a day, week or month is placed by the offsets at
 * its ends alone, and no zone changes its offset twice within an hour. (From
 * 1900 to 2040 tzdb has three such pairs, a week of daylight saving in Brazil
 * in October 2000, checked by a test; the property test checks tiling around
 * sampled transitions of every zone.) The common case costs three offset
 * readings per bound.
 */
const SECOND = 1000;
const CHUNK = 7 * DAY;

type Label = { unit: number; offset: number };

/** Days since 1970-01-01 of a wall-clock reading (ms, as if UTC). */
const dayIndex = (wall: number) => floor(wall / DAY);

/** The unit index of a wall-clock reading: hours, days, weeks or months since 1970. */
function unitOf(c: Calendar, wall: number): number {
  switch (c.per) {
    case "hour":
      return floor(wall / HOUR);
    case "day":
      return dayIndex(wall);
    case "week":
      // 1970-01-01 was a Thursday (weekday 4).
      return floor((dayIndex(wall) + 4 - c.weekStartsOn) / 7);
    case "month": {
      const d = new Date(wall);
      return d.getUTCFullYear() * 12 + d.getUTCMonth();
    }
  }
}

/** The wall-clock reading at which unit `u` begins. */
function unitStart(c: Calendar, u: number): number {
  switch (c.per) {
    case "hour":
      return u * HOUR;
    case "day":
      return u * DAY;
    case "week":
      return (u * 7 - 4 + c.weekStartsOn) * DAY;
    case "month":
      return Date.UTC(floor(u / 12), ((u % 12) + 12) % 12, 1);
  }
}

function labelAt(c: Calendar, t: number, offset = offsetAt(c.timeZone, t)): Label {
  // Hours are told apart by offset too; days, weeks and months are not.
  return { unit: unitOf(c, t + offset), offset: c.per === "hour" ? offset : 0 };
}

const sameLabel = (a: Label, b: Label) => a.unit === b.unit && a.offset === b.offset;

const floorSecond = (t: number) => floor(t / SECOND) * SECOND;

/**
 * The last transition in (lo, hi], given the offset at `hi`: the first whole
 * second from which the offset is `offset` through `hi`. Undefined: none.
 */
function lastTransition(zone: string, lo: number, hi: number, offset: number) {
  let b = floorSecond(hi);
  let a = b;
  // Step back a chunk at a time until a different offset is seen.
  for (;;) {
    if (a <= lo) return undefined;
    a = max(lo, a - CHUNK);
    if (offsetAt(zone, a) !== offset) break;
    b = a;
  }
  // offset(a) differs, offset(b) is `offset`: narrow to one second.
  a = floorSecond(a);
  while (b - a > SECOND) {
    const mid = floorSecond(a + (b - a) / 2);
    if (offsetAt(zone, mid) === offset) b = mid;
    else a = mid;
  }
  return b;
}

/**
 * The first transition in (lo, hi], given the offset at `lo`: the first whole
 * second whose offset is not `offset`. Undefined: none.
 */
function firstTransition(zone: string, lo: number, hi: number, offset: number) {
  let a = lo;
  let b = a;
  for (;;) {
    if (b >= hi) return undefined;
    b = min(hi, b + CHUNK);
    if (offsetAt(zone, b) !== offset) break;
    a = b;
  }
  b = floorSecond(b);
  while (b - a > SECOND) {
    const mid = floorSecond(a + (b - a) / 2);
    if (mid <= a) break;
    if (offsetAt(zone, mid) === offset) a = mid;
    else b = mid;
  }
  return b;
}

/**
 * The last few periods found, [calendar, start, end): searches for a retry or
 * idle time probe many instants of the same few periods, and periods are pure
 * functions of (calendar, time), so a hit saves every offset reading.
 */
const recent: { key: string; start: number; end: number }[] = [];
const RECENT = 8;

const keyOf = (c: Calendar) => `${c.per} ${c.weekStartsOn} ${c.timeZone}`;

/** The period [start, end) containing `t`. */
function periodOf(c: Calendar, t: number): { start: number; end: number } {
  const key = keyOf(c);
  for (const p of recent) if (p.key === key && p.start <= t && t < p.end) return p;
  const start = findStart(c, t);
  const p = { key, start, end: findNext(c, start) };
  recent.unshift(p);
  if (recent.length > RECENT) recent.pop();
  return p;
}

/** Start of the period containing instant `t`. */
export function periodStart(c: Calendar, t: number): number {
  return periodOf(c, t).start;
}

/** Start of the period after the one containing `t` (normally its start). */
export function nextPeriodStart(c: Calendar, t: number): number {
  return periodOf(c, t).end;
}

/** The searches without the memo of recent periods (tests check them directly). */
export const uncached = {
  periodStart: (c: Calendar, t: number) => findStart(c, t),
  nextPeriodStart: (c: Calendar, t: number) => findNext(c, t),
};

function findStart(c: Calendar, t: number): number {
  const zone = c.timeZone;
  let offset = offsetAt(zone, t);
  const label = labelAt(c, t, offset);
  for (;;) {
    // Where the clock, at this offset, read the start of the unit.
    const u = unitStart(c, label.unit) - offset;
    const x = lastTransition(zone, u, t, offset) ?? u;
    t = x - SECOND;
    offset = offsetAt(zone, t);
    if (!sameLabel(labelAt(c, t, offset), label)) return x;
    // A transition inside the unit that keeps the label: the period began earlier.
  }
}

function findNext(c: Calendar, t: number): number {
  const zone = c.timeZone;
  let offset = offsetAt(zone, t);
  const label = labelAt(c, t, offset);
  for (;;) {
    // Where the clock, at this offset, reads the start of the next unit.
    const e = unitStart(c, label.unit + 1) - offset;
    const x = firstTransition(zone, t, e, offset) ?? e;
    const at = labelAt(c, x);
    if (!sameLabel(at, label)) return x;
    // A transition inside the unit that keeps the label: the period goes on.
    t = x;
    offset = offsetAt(zone, t);
  }
}

/**
 * How many periods the debt of a quota pays for between the periods starting
 * at `from` and at `to` (`from` < `to`): the calendar units the local clock
 * moved through, at least 1. Two offset readings, however far apart. It equals
 * the number of periods except where a transition skips or repeats a whole
 * unit: an hour that daylight saving skips counts, an hour it repeats does not
 * (nor a date repeated across the date line; a skipped date counts).
 */
export function unitsBetween(c: Calendar, from: number, to: number): number {
  const unit = (t: number) => unitOf(c, t + offsetAt(c.timeZone, t));
  return max(1, unit(to) - unit(from));
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `t` as ISO 8601 local time with the zone's offset, e.g. "2026-03-09T00:00:00-04:00". */
export function localIso(timeZone: string, t: number): string {
  const p = localParts(timeZone, t);
  const off = round(offsetAt(timeZone, t) / 60_000);
  const sign = off < 0 ? "-" : "+";
  const minutes = abs(off);
  const zone = `${sign}${pad(floor(minutes / 60))}:${pad(minutes % 60)}`;
  return `${pad(p.y, 4)}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.min)}:${pad(p.s)}${zone}`;
}

function configError(name: string, field: string, message: string) {
  return guardError(ErrorCode.INVALID_CONFIG, `Rate limit "${name}": ${message}`, {
    name,
    field,
  });
}

/** Checks a quota's calendar fields (INVALID_CONFIG naming the field) and applies defaults. */
export function assertCalendar(
  config: { per?: unknown; timeZone?: unknown; weekStartsOn?: unknown },
  name: string,
): Calendar {
  const per = config.per;
  if (typeof per !== "string" || !(CALENDAR_UNITS as readonly string[]).includes(per)) {
    throw configError(
      name,
      "per",
      `per must be "hour", "day", "week" or "month", got ${String(per)}`,
    );
  }
  const timeZone = config.timeZone ?? "UTC";
  if (typeof timeZone !== "string" || !isZoneName(timeZone)) {
    throw configError(
      name,
      "timeZone",
      `timeZone must be an IANA time zone name such as "America/New_York", got ${String(timeZone)}`,
    );
  }
  const weekStartsOn = config.weekStartsOn ?? 1;
  if (
    typeof weekStartsOn !== "number" ||
    !Number.isInteger(weekStartsOn) ||
    weekStartsOn < 0 ||
    weekStartsOn > 6
  ) {
    throw configError(
      name,
      "weekStartsOn",
      `weekStartsOn must be an integer from 0 (Sunday) to 6 (Saturday), got ${String(weekStartsOn)}`,
    );
  }
  if (config.weekStartsOn !== undefined && per !== "week") {
    throw configError(name, "weekStartsOn", `weekStartsOn is an option of per: "week" only`);
  }
  return { per: per as CalendarUnit, timeZone, weekStartsOn };
}
