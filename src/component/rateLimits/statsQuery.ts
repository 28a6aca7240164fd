/**
 * `stats`: reads the hourly aggregates ./stats.ts folds. Every read is by
 * index and bounded: at most MAX_STATS_RANGE_MS of hours, and for the top
 * denied keys `top` keys per hour plus each winner's own hours.
 */
import type { QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { assertIntInRange, assertKey } from "../lib/validate.js";
import { DAY, HOUR } from "../lib/time.js";
import { isZoneName, periodStart } from "./calendar.js";
import { assertLimitName } from "./config.js";
import { KEY_STATS_RETENTION_MS, hourOf, type Counts } from "./stats.js";
import type { StatsArgs, StatsResult } from "./stats.js";
import { ceil, floor, max, min } from "../lib/math.js";

/** Longest range one `stats` call reads (hours: 744 aggregates at most). */
export const MAX_STATS_RANGE_MS = 31 * DAY;
/** Most hourly aggregates in a range (31 days), the bound of every range read here. */
export const MAX_STATS_HOURS = 31 * 24 + 1;
export const DEFAULT_TOP = 10;
export const MAX_TOP = 25;

type Hour = { hour: number } & Counts;

function assertRange(from: number, to: number) {
  for (const [what, t] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (!Number.isFinite(t) || t < 0) {
      throw guardError(
        ErrorCode.INVALID_ARGUMENT,
        `${what} must be a time in ms since epoch, got ${t}`,
        { field: what },
      );
    }
  }
  if (to <= from) {
    throw guardError(ErrorCode.INVALID_ARGUMENT, `to must be after from (${from}), got ${to}`, {
      field: "to",
    });
  }
  if (to - from > MAX_STATS_RANGE_MS) {
    throw guardError(ErrorCode.INVALID_ARGUMENT, "from..to may span at most 31 days", {
      field: "to",
    });
  }
}

const counts = (d: Counts): Counts => ({
  allowed: d.allowed,
  denied: d.denied,
  consumed: d.consumed,
});

function add(into: Counts, d: Counts) {
  into.allowed += d.allowed;
  into.denied += d.denied;
  into.consumed += d.consumed;
}

/**
 * The start of the local day an hour belongs to (the day its start falls in:
 * exact for zones whose offset is a whole number of hours, as almost all are).
 */
function localDay(timeZone: string | undefined): (hour: number) => number {
  if (timeZone === undefined || timeZone === "UTC") return (hour) => floor(hour / DAY) * DAY;
  if (!isZoneName(timeZone)) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `timeZone must be an IANA time zone name such as "America/New_York", got ${timeZone.slice(0, 64)}`,
      { field: "timeZone" },
    );
  }
  return (hour) => periodStart({ per: "day", timeZone, weekStartsOn: 1 }, hour);
}

export async function readStats(ctx: QueryCtx, args: StatsArgs, now: number): Promise<StatsResult> {
  assertLimitName(args.name);
  if (args.key !== undefined) assertKey(args.key);
  assertRange(args.from, args.to);
  const top = args.top ?? DEFAULT_TOP;
  assertIntInRange(top, "top", 1, MAX_TOP);
  const dayOf = localDay(args.timeZone);
  const { name, key } = args;
  // Hours that start inside [from, to).
  const lo = ceil(args.from / HOUR) * HOUR;
  const hi = args.to;
  const hours: Hour[] = (
    key === undefined
      ? await ctx.db
          .query("rateLimitStatsByName")
          .withIndex("by_name_hour", (q) => q.eq("name", name).gte("hour", lo).lt("hour", hi))
          .take(MAX_STATS_HOURS)
      : await ctx.db
          .query("rateLimitStatsByKey")
          .withIndex("by_name_key_hour", (q) =>
            q.eq("name", name).eq("key", key).gte("hour", lo).lt("hour", hi),
          )
          .take(MAX_STATS_HOURS)
  ).map((d) => ({ hour: d.hour, ...counts(d) }));
  const total = { allowed: 0, denied: 0, consumed: 0 };
  const days = new Map<number, { day: number } & Counts>();
  for (const h of hours) {
    add(total, h);
    const day = dayOf(h.hour);
    const d = days.get(day) ?? { day, allowed: 0, denied: 0, consumed: 0 };
    add(d, h);
    days.set(day, d);
  }
  const ranking =
    key === undefined
      ? await topDenied(ctx, name, hours, top, lo, hi, now)
      : { keys: [], exact: true };
  return {
    hours,
    days: [...days.values()],
    total,
    topDenied: ranking.keys,
    topDeniedExact: ranking.exact,
    completeUntil: await completeUntil(ctx, now),
  };
}

/**
 * The keys with the most denials: the union of each hour's `top` most denied
 * keys, ranked by their exact totals over the range (each winner's own hours).
 * Exact unless some hour had more than `top` denied keys. Per-key hours are
 * kept KEY_STATS_RETENTION_MS, so older hours are not scanned.
 */
async function topDenied(
  ctx: QueryCtx,
  name: string,
  hours: Hour[],
  top: number,
  lo: number,
  hi: number,
  now: number,
) {
  const kept = now - KEY_STATS_RETENTION_MS;
  const candidates = new Map<string, number>();
  let exact = true;
  for (const h of hours) {
    if (h.denied === 0 || h.hour < kept) continue;
    const best = await ctx.db
      .query("rateLimitStatsByKey")
      .withIndex("by_name_hour_denied", (q) =>
        q.eq("name", name).eq("hour", h.hour).gt("denied", 0),
      )
      .order("desc")
      .take(top + 1);
    if (best.length > top) exact = false;
    for (const d of best.slice(0, top)) {
      candidates.set(d.key, (candidates.get(d.key) ?? 0) + d.denied);
    }
  }
  const winners = [...candidates.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const keys: ({ key: string } & Counts)[] = [];
  for (const [key] of winners) {
    const own = await ctx.db
      .query("rateLimitStatsByKey")
      .withIndex("by_name_key_hour", (q) =>
        q
          .eq("name", name)
          .eq("key", key)
          .gte("hour", max(lo, hourOf(kept)))
          .lt("hour", hi),
      )
      .take(MAX_STATS_HOURS);
    const c = { key, allowed: 0, denied: 0, consumed: 0 };
    for (const d of own) add(c, d);
    keys.push(c);
  }
  keys.sort((a, b) => b.denied - a.denied || (a.key < b.key ? -1 : 1));
  return { keys, exact };
}

/** Hours before this have all their counts folded: none held in a shard document or an unfolded row. */
async function completeUntil(ctx: QueryCtx, now: number): Promise<number> {
  let until = hourOf(now);
  const held = await ctx.db
    .query("rateLimits")
    .withIndex("by_statsHour", (q) => q.gte("statsHour", 0))
    .first();
  if (held?.statsHour !== undefined) until = min(until, held.statsHour);
  const row = await ctx.db.query("rateLimitStatRows").withIndex("by_hour").first();
  if (row !== null) until = min(until, row.hour);
  return until;
}
