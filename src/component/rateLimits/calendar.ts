/**
 * Calendar periods (hour, day, week, month) in an IANA time zone, for quotas.
 *
 * Convex's isolate runtime loads ICU's full common data (convex-backend
 * crates/isolate/src/client.rs: `v8::icu::set_common_data_77`), so
 * `Intl.DateTimeFormat` knows every IANA zone and its daylight-saving rules,
 * as it does in Node and browsers. Local midnight is found from the zone's
 * offset; where a transition skips midnight (the day starts at 01:00) the
 * first instant of the date is found by search.
 */
import { ErrorCode, guardError } from "../lib/errors.js";

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
  return {
    y: out.year!,
    m: out.month!,
    d: out.day!,
    h: out.hour! % 24,
    min: out.minute!,
    s: out.second!,
  };
}

/** The zone's offset from UTC at `t`, in ms (whole seconds). */
function offsetAt(timeZone: string, t: number): number {
  const p = localParts(timeZone, t);
  const wall = Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s);
  return wall - (t - (((t % 1000) + 1000) % 1000));
}

function dateKey(y: number, m: number, d: number): number {
  return (y * 100 + m) * 100 + d;
}

/** The first instant whose local date is y-m-d (normally local 00:00). */
function startOfLocalDate(timeZone: string, y: number, m: number, d: number): number {
  const wall = Date.UTC(y, m - 1, d);
  if (timeZone === "UTC") return wall;
  let t = wall - offsetAt(timeZone, wall);
  t = wall - offsetAt(timeZone, t);
  const p = localParts(timeZone, t);
  if (p.h === 0 && p.min === 0 && p.s === 0 && dateKey(p.y, p.m, p.d) === dateKey(y, m, d)) {
    // A fall-back at midnight repeats 00:00: take the first.
    const earlier = t - HOUR;
    const q = localParts(timeZone, earlier);
    return q.h === 0 && dateKey(q.y, q.m, q.d) === dateKey(y, m, d) ? earlier : t;
  }
  // Midnight does not exist (a spring-forward at 00:00): search the transition.
  const target = dateKey(y, m, d);
  let lo = wall - 15 * HOUR; // local date still before y-m-d (offsets are within -12h..+14h)
  let hi = wall + 13 * HOUR; // local date y-m-d or later
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const q = localParts(timeZone, mid);
    if (dateKey(q.y, q.m, q.d) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** y-m-d shifted by `days` (calendar arithmetic, any month length). */
function addDays(y: number, m: number, d: number, days: number) {
  const x = new Date(Date.UTC(y, m - 1, d + days));
  return { y: x.getUTCFullYear(), m: x.getUTCMonth() + 1, d: x.getUTCDate() };
}

/** Start of the period containing instant `t`. */
export function periodStart(c: Calendar, t: number): number {
  const p = localParts(c.timeZone, t);
  switch (c.per) {
    case "hour":
      // Local hours are whole hours of wall time; a repeated hour (fall-back) is two periods.
      return Math.floor(t / 1000) * 1000 - (p.min * 60 + p.s) * 1000;
    case "day":
      return startOfLocalDate(c.timeZone, p.y, p.m, p.d);
    case "week": {
      const weekday = new Date(Date.UTC(p.y, p.m - 1, p.d)).getUTCDay();
      const back = (weekday - c.weekStartsOn + 7) % 7;
      const s = addDays(p.y, p.m, p.d, -back);
      return startOfLocalDate(c.timeZone, s.y, s.m, s.d);
    }
    case "month":
      return startOfLocalDate(c.timeZone, p.y, p.m, 1);
  }
}

/** Start of the period after the one that starts at `start`. */
export function nextPeriodStart(c: Calendar, start: number): number {
  if (c.per === "hour") return start + HOUR;
  // Noon of the first local date is safely inside the period.
  const p = localParts(c.timeZone, start + 12 * HOUR);
  switch (c.per) {
    case "day": {
      const n = addDays(p.y, p.m, p.d, 1);
      return startOfLocalDate(c.timeZone, n.y, n.m, n.d);
    }
    case "week": {
      const n = addDays(p.y, p.m, p.d, 7);
      return startOfLocalDate(c.timeZone, n.y, n.m, n.d);
    }
    case "month":
      return p.m === 12
        ? startOfLocalDate(c.timeZone, p.y + 1, 1, 1)
        : startOfLocalDate(c.timeZone, p.y, p.m + 1, 1);
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `t` as ISO 8601 local time with the zone's offset, e.g. "2026-03-09T00:00:00-04:00". */
export function localIso(timeZone: string, t: number): string {
  const p = localParts(timeZone, t);
  const off = Math.round(offsetAt(timeZone, t) / 60_000);
  const sign = off < 0 ? "-" : "+";
  const abs = Math.abs(off);
  const zone = `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
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
