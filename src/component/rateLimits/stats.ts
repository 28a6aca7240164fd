/**
 * Usage stats of limits configured with `stats: true`: allowed, denied and
 * consumed counts per UTC hour, per limit name and per key.
 *
 * Calls with `count: 0` (which take nothing) are not counted. Recording adds
 * no read or write of a shared document to `limit`:
 * - An admitted call already writes its shard document; the hour's counters
 *   ride in that write (`statsHour`, `statsAllowed`, `statsConsumed`). When a
 *   call finds counters of an earlier hour it appends them as a row first.
 * - A denied call writes nothing to the limit's state (two denials must not
 *   conflict), so it appends one row. Appends read nothing and no call reads
 *   the rows, so they conflict with no other call.
 * - Admitted calls of asynchronous limits are counted when the maintenance
 *   pass folds their consumption rows.
 *
 * The maintenance pass, once an hour is over (STATS_DELAY_MS later), flushes
 * the counters of shard documents still holding a closed hour, folds the rows
 * into the per-(name, hour) and per-(name, key, hour) aggregates and deletes
 * them, and deletes aggregates past their retention. Each step is a bounded
 * batch; the rows are read only up to the pass's snapshot, so racing appends
 * (which commit later) are outside its read set.
 */
import { defineTable } from "convex/server";
import { v, type Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { DAY, HOUR, MINUTE } from "../lib/time.js";
import { ensureMaintenance, type MaintenanceResult } from "../maintenance/kick.js";
import { floor, max, min } from "../lib/math.js";

/** Counts of calls: the fields every stats row, aggregate and result carries. */
const countFields = { allowed: v.number(), denied: v.number(), consumed: v.number() };

/**
 * The stats tables. Rows are appended by `limit` (a denial, or a key's
 * closed hour) and never changed; the maintenance pass folds them into the
 * hourly aggregates and deletes them. `hour` is the start of a UTC hour (ms
 * since epoch).
 */
export const statsTables = {
  rateLimitStatRows: defineTable({
    name: v.string(),
    key: v.string(),
    hour: v.number(),
    ...countFields,
    at: v.commitTs(),
  })
    .index("by_at", ["at"])
    .index("by_hour", ["hour"]),
  // Per (name, hour): what `stats` without a key reads.
  rateLimitStatsByName: defineTable({ name: v.string(), hour: v.number(), ...countFields })
    .index("by_name_hour", ["name", "hour"])
    .index("by_hour", ["hour"]),
  // Per (name, key, hour): a key's stats and the top denied keys of an hour.
  rateLimitStatsByKey: defineTable({
    name: v.string(),
    key: v.string(),
    hour: v.number(),
    ...countFields,
  })
    .index("by_name_key_hour", ["name", "key", "hour"])
    .index("by_name_hour_denied", ["name", "hour", "denied"])
    .index("by_hour", ["hour"]),
};

export const vStatsResult = v.object({
  /** Hours (UTC, start in ms) with any call, oldest first. */
  hours: v.array(v.object({ hour: v.number(), ...countFields })),
  /** The same summed per day of `timeZone` (UTC by default; `day` = its local midnight, in ms). */
  days: v.array(v.object({ day: v.number(), ...countFields })),
  total: v.object(countFields),
  /** Without `key`: the keys with the most denials in the range, most first. */
  topDenied: v.array(v.object({ key: v.string(), ...countFields })),
  /** False when some hour had more denied keys than `top`: a key denied a little in many hours may be missing. */
  topDeniedExact: v.boolean(),
  /** Hours starting before this are final; later ones still gain counts (the current hour, unfolded ones). */
  completeUntil: v.number(),
});
export type StatsResult = Infer<typeof vStatsResult>;
export type StatsArgs = {
  name: string;
  key?: string;
  from: number;
  to: number;
  top?: number;
  timeZone?: string;
};

/** How long after an hour ends its stats are folded (one tick takes every key's closed hour). */
export const STATS_DELAY_MS = 2 * MINUTE;
/** Shard documents whose closed-hour counters one pass flushes. */
export const STATS_FLUSH_BATCH = 256;
/** Rows one pass folds (each updates at most two aggregates). */
export const STATS_FOLD_BATCH = 256;
/** Aggregates one pass deletes past their retention. */
export const STATS_RETENTION_BATCH = 256;
/** Per-key hours are kept this long (they are the bulk of the storage). */
export const KEY_STATS_RETENTION_MS = 8 * DAY;
/** Per-name hours are kept this long. */
export const NAME_STATS_RETENTION_MS = 92 * DAY;

export type Counts = { allowed: number; denied: number; consumed: number };

/** The start of the UTC hour holding `t`. */
export function hourOf(t: number): number {
  return floor(t / HOUR) * HOUR;
}

/** When the stats of the hour starting at `hour` are folded. */
export function statsDueAt(hour: number): number {
  return hour + HOUR + STATS_DELAY_MS;
}

type Target = { name: string; key: string };

async function appendRow(ctx: MutationCtx, t: Target, hour: number, counts: Counts) {
  const { name, key } = t;
  const { allowed, denied, consumed } = counts;
  const row = { name, key, hour, allowed, denied, consumed, at: ctx.db.vars.commitTs };
  await ctx.db.insert("rateLimitStatRows", row);
}

/**
 * The stats fields an admitted call writes to a shard document it writes
 * anyway, after appending the counters of an earlier hour the document holds.
 * `count` 0: nothing to count here (a call with count 0, or a second shard
 * paying part of a call counted on the first).
 */
export async function admittedStats(
  ctx: MutationCtx,
  t: Target,
  doc: Doc<"rateLimits"> | null,
  count: number,
  now: number,
) {
  // Nothing to count: leave the document's counters as they are.
  if (count === 0) return {};
  const hour = hourOf(now);
  const held = doc?.statsHour;
  const sameHour = doc !== null && held === hour;
  let allowed = sameHour ? (doc.statsAllowed ?? 0) : 0;
  let consumed = sameHour ? (doc.statsConsumed ?? 0) : 0;
  if (!sameHour) {
    if (doc !== null && held !== undefined) await flushCounters(ctx, doc);
    // The first count of this hour in this document: make sure a tick folds it
    // (and the appended hour). A loop running late is not rushed: a tick within
    // STATS_DELAY_MS will do.
    await ensureMaintenance(ctx, now, max(statsDueAt(held ?? hour), now + STATS_DELAY_MS));
  }
  allowed += 1;
  consumed += count;
  return { statsHour: hour, statsAllowed: allowed, statsConsumed: consumed };
}

/** A shard document's counters removed, once they are flushed or folded (a patch's fields). */
export const NO_COUNTERS = {
  statsHour: undefined,
  statsAllowed: undefined,
  statsConsumed: undefined,
} as const;

/** Appends a shard document's counters as a row (before `reset` deletes it or it starts a new hour). */
export async function flushCounters(ctx: MutationCtx, doc: Doc<"rateLimits">) {
  if (doc.statsHour === undefined) return;
  const allowed = doc.statsAllowed ?? 0;
  const consumed = doc.statsConsumed ?? 0;
  if (allowed === 0 && consumed === 0) return;
  await appendRow(ctx, doc, doc.statsHour, { allowed, denied: 0, consumed });
}

/** Counts a refused call if its limit keeps stats (a count of 0 is not counted): one append, nothing read. */
export async function recordDenied(
  ctx: MutationCtx,
  t: Target,
  call: { stats?: boolean; count: number },
  now: number,
) {
  if (call.stats !== true || call.count <= 0) return;
  const hour = hourOf(now);
  await appendRow(ctx, t, hour, { allowed: 0, denied: 1, consumed: 0 });
  await ensureMaintenance(ctx, now, statsDueAt(hour));
}

/** Counts folded admissions of an asynchronous limit (the fold runs in the maintenance pass). */
export async function foldAdmitted(
  ctx: MutationCtx,
  t: Target,
  rows: { count: number; ts: number }[],
) {
  const deltas = new Deltas();
  for (const row of rows)
    deltas.add(t, hourOf(row.ts), { allowed: 1, denied: 0, consumed: row.count });
  await deltas.write(ctx);
}

/** Sums counts per aggregate before writing, so a batch writes each aggregate once. */
class Deltas {
  readonly byName = new Map<string, Target & { hour: number } & Counts>();
  readonly byKey = new Map<string, Target & { hour: number } & Counts>();

  add(t: Target, hour: number, c: Counts) {
    for (const [map, id] of [
      [this.byName, JSON.stringify([t.name, hour])],
      [this.byKey, JSON.stringify([t.name, t.key, hour])],
    ] as const) {
      const d = map.get(id) ?? {
        name: t.name,
        key: t.key,
        hour,
        allowed: 0,
        denied: 0,
        consumed: 0,
      };
      d.allowed += c.allowed;
      d.denied += c.denied;
      d.consumed += c.consumed;
      map.set(id, d);
    }
  }

  async write(ctx: MutationCtx) {
    for (const d of this.byName.values()) {
      const doc = await ctx.db
        .query("rateLimitStatsByName")
        .withIndex("by_name_hour", (q) => q.eq("name", d.name).eq("hour", d.hour))
        .unique();
      const { name, hour } = d;
      if (doc) await ctx.db.patch("rateLimitStatsByName", doc._id, sum(doc, d));
      else await ctx.db.insert("rateLimitStatsByName", { name, hour, ...sum(null, d) });
    }
    for (const d of this.byKey.values()) {
      const doc = await ctx.db
        .query("rateLimitStatsByKey")
        .withIndex("by_name_key_hour", (q) =>
          q.eq("name", d.name).eq("key", d.key).eq("hour", d.hour),
        )
        .unique();
      const { name, key, hour } = d;
      if (doc) await ctx.db.patch("rateLimitStatsByKey", doc._id, sum(doc, d));
      else await ctx.db.insert("rateLimitStatsByKey", { name, key, hour, ...sum(null, d) });
    }
  }
}

function sum(a: Counts | null, b: Counts): Counts {
  return {
    allowed: (a?.allowed ?? 0) + b.allowed,
    denied: (a?.denied ?? 0) + b.denied,
    consumed: (a?.consumed ?? 0) + b.consumed,
  };
}

function addCounters(deltas: Deltas, docs: Doc<"rateLimits">[]) {
  for (const doc of docs) {
    if (doc.statsHour === undefined) continue;
    const counts = { allowed: doc.statsAllowed ?? 0, denied: 0, consumed: doc.statsConsumed ?? 0 };
    deltas.add(doc, doc.statsHour, counts);
  }
}

/** Folds the counters of shard documents the idle-key sweep is about to delete. */
export async function foldCounters(ctx: MutationCtx, docs: Doc<"rateLimits">[]) {
  const deltas = new Deltas();
  addCounters(deltas, docs);
  await deltas.write(ctx);
}

/** The stats pass: flush closed hours, fold rows, apply retention; each a bounded batch. */
export async function maintainStats(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const deltas = new Deltas();
  const closed = await ctx.db
    .query("rateLimits")
    .withIndex("by_statsHour", (q) => q.gte("statsHour", 0).lt("statsHour", hourOf(now)))
    .take(STATS_FLUSH_BATCH);
  addCounters(deltas, closed);
  for (const doc of closed) await ctx.db.patch("rateLimits", doc._id, NO_COUNTERS);
  const snapshot = ctx.meta.getSnapshotTs();
  const rows = await ctx.db
    .query("rateLimitStatRows")
    .withIndex("by_at", (q) => q.lte("at", snapshot))
    .take(STATS_FOLD_BATCH);
  for (const row of rows) {
    deltas.add(row, row.hour, row);
    await ctx.db.delete("rateLimitStatRows", row._id);
  }
  await deltas.write(ctx);
  const expired = await deleteExpired(ctx, now);
  return {
    processed: closed.length + rows.length + expired.processed,
    more: closed.length === STATS_FLUSH_BATCH || rows.length === STATS_FOLD_BATCH || expired.more,
  };
}

async function deleteExpired(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const byKey = await ctx.db
    .query("rateLimitStatsByKey")
    .withIndex("by_hour", (q) => q.lt("hour", now - KEY_STATS_RETENTION_MS))
    .take(STATS_RETENTION_BATCH);
  for (const doc of byKey) await ctx.db.delete("rateLimitStatsByKey", doc._id);
  const byName = await ctx.db
    .query("rateLimitStatsByName")
    .withIndex("by_hour", (q) => q.lt("hour", now - NAME_STATS_RETENTION_MS))
    .take(STATS_RETENTION_BATCH);
  for (const doc of byName) await ctx.db.delete("rateLimitStatsByName", doc._id);
  const processed = byKey.length + byName.length;
  return {
    processed,
    more: byKey.length === STATS_RETENTION_BATCH || byName.length === STATS_RETENTION_BATCH,
  };
}

/** When stats work is next due (three index reads of one document each), or null. */
export async function statsDue(ctx: QueryCtx): Promise<number | null> {
  const due: number[] = [];
  const held = await ctx.db
    .query("rateLimits")
    .withIndex("by_statsHour", (q) => q.gte("statsHour", 0))
    .first();
  if (held?.statsHour !== undefined) due.push(statsDueAt(held.statsHour));
  const row = await ctx.db.query("rateLimitStatRows").withIndex("by_at").first();
  if (row !== null) due.push(statsDueAt(row.hour));
  const key = await ctx.db.query("rateLimitStatsByKey").withIndex("by_hour").first();
  if (key !== null) due.push(key.hour + KEY_STATS_RETENTION_MS + HOUR);
  const name = await ctx.db.query("rateLimitStatsByName").withIndex("by_hour").first();
  if (name !== null) due.push(name.hour + NAME_STATS_RETENTION_MS + HOUR);
  return due.length === 0 ? null : min(...due);
}
