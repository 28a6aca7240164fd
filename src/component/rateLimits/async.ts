/**
 * Asynchronous limits (`applyUpdates: "asynchronously"`), for hot keys.
 *
 * `limit` decides in a nested query on a stale snapshot, which adds nothing
 * to the caller's read set, and records an admitted call by appending one
 * `rateLimitPending` row stamped with its commit timestamp. No call writes a
 * document another call reads, so calls on one key never conflict.
 *
 * The admission rule (`decideAsync`): a call is admitted when the folded
 * state has room for it, as in `@convex-dev/rate-limiter`, and the unfolded
 * consumption the snapshot holds has not used that room up. So the balance
 * every row leaves once folded never goes below minus one call's count, plus
 * the consumption of calls that committed between a decision's snapshot and
 * its own commit (calls in flight at once), whatever the fold lag.
 *
 * What a decision reads (`readChained`): not every unfolded row, but the
 * newest row that records the state its call decided on (`applied`, as of
 * its snapshot `upTo`) and the rows committed after that snapshot, i.e. the
 * calls in flight at that moment. Without overlapping calls that is the state
 * document, one link and one row, whatever the fold lag.
 *
 * `foldPending` (a maintenance pass) applies rows in commit order to the
 * state document (shard 0) and deletes them, in one transaction: a failed
 * pass changes nothing and the next one folds the same rows. It reads rows
 * only up to its snapshot timestamp, so racing appends (which commit later)
 * are outside its read set too.
 */
import type { Doc } from "../_generated/dataModel.js";
import type { DatabaseReader, MutationCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import type { MaintenanceResult } from "../maintenance/kick.js";
import type { ShardConfig } from "./algorithms/index.js";
import { normalizeConfig, shardConfig, type NormalizedConfig } from "./config.js";
import { keepWhileBlocked } from "./blocks.js";
import { toState } from "./shards.js";
import { advance, decide, idleAt, type Decision } from "./math.js";
import { foldAdmitted } from "./stats.js";
import type { RateLimitConfig, RateLimitState } from "./model.js";

/**
 * Most pending rows a decision reads for one key after its starting point
 * (calls in flight at once); beyond it the call waits for a fold.
 */
export const MAX_UNFOLDED = 256;
/** How long a call told to wait for a fold waits (about one busy maintenance tick). */
export const FOLD_WAIT_MS = 1000;
/** How soon after a call its consumption is folded (the maintenance tick it wakes). */
export const FOLD_DELAY_MS = 1000;
/** Pending rows one fold pass applies. */
export const FOLD_BATCH = 512;

type PendingRow = Pick<Doc<"rateLimitPending">, "count" | "ts">;

/**
 * A decision's starting point on a stale snapshot: `base`, the state with
 * every consumption committed by some time applied, and `rows`, the unfolded
 * rows committed after it (in commit order, at most MAX_UNFOLDED + 1).
 */
export type AsyncView = { base: RateLimitState | null; rows: Doc<"rateLimitPending">[] };

/** What an admitted call's row records for later calls: its snapshot and the state it saw. */
export type ChainLink = { upTo: bigint; applied: RateLimitState | null };

/** Up to MAX_UNFOLDED + 1 unfolded rows of (name, key), in commit order. */
export function readPending(db: DatabaseReader, name: string, key: string) {
  return db
    .query("rateLimitPending")
    .withIndex("by_name_key_at", (q) => q.eq("name", name).eq("key", key))
    .take(MAX_UNFOLDED + 1);
}

/**
 * The view a decision on a stale snapshot starts from, without reading every
 * unfolded row: the newest row that carries `applied` already holds the
 * state with everything committed up to its snapshot (`upTo`) applied, so
 * only the rows committed after that are read, which are calls that were in
 * flight at that snapshot, not everything since the last fold. When the fold
 * has gone past that row's snapshot (`foldedThrough` on the state document:
 * rows committed by then are folded and deleted), the state document is the
 * newer start. Either way the result equals applying every unfolded row to
 * the folded state, because folding is the same in-order application.
 * Only for snapshots of committed data: `at` of a row this transaction wrote
 * is still a placeholder (`readPending` is the general path).
 */
export async function readChained(
  db: DatabaseReader,
  doc: Doc<"rateLimits"> | null,
  name: string,
  key: string,
): Promise<AsyncView> {
  const link = await db
    .query("rateLimitPending")
    .withIndex("by_name_key_upTo", (q) => q.eq("name", name).eq("key", key))
    .order("desc")
    .first();
  const through = doc?.foldedThrough;
  const upTo = link?.upTo;
  if (
    upTo !== undefined &&
    link!.applied !== undefined &&
    (through === undefined || upTo >= through)
  ) {
    // Rows committed at `upTo` itself were visible to that call, so: strictly after.
    const rows = await db
      .query("rateLimitPending")
      .withIndex("by_name_key_at", (q) => q.eq("name", name).eq("key", key).gt("at", upTo))
      .take(MAX_UNFOLDED + 1);
    return { base: link!.applied, rows };
  }
  // Rows of one transaction share `at`; a fold batch may have split them, so: from `through` on.
  const rows = await db
    .query("rateLimitPending")
    .withIndex("by_name_key_at", (q) => {
      const keyed = q.eq("name", name).eq("key", key);
      return through === undefined ? keyed : keyed.gte("at", through);
    })
    .take(MAX_UNFOLDED + 1);
  return { base: toState(doc), rows };
}

/**
 * Applies consumption rows to a state in order. Each is taken at its call's
 * clock, never before the state's time (clocks of racing calls interleave).
 */
export function foldRows(
  s: ShardConfig,
  state: RateLimitState | null,
  seed: string,
  rows: PendingRow[],
): RateLimitState | null {
  let st = state;
  for (const row of rows) {
    const t = Math.max(row.ts, st?.ts ?? row.ts);
    st = s.algorithm.take(s, advance(s, st, seed, t), row.count, t);
  }
  return st;
}

/** Consumption of the rows a decision read. */
export function unfoldedCount(rows: PendingRow[]): number {
  return rows.reduce((sum, row) => sum + row.count, 0);
}

/**
 * The asynchronous admission rule, on the folded `state` and the unfolded
 * `rows` a snapshot holds. Without `reserve`, a call is admitted when the
 * folded state has room for `count` (the peer's rule) and the state with the
 * rows applied is not below zero: the last call admitted may leave the
 * balance at most its own count below zero once everything folds (the peer's
 * own tests expect a call admitted on a balance its queued consumption has
 * just exhausted). With `reserve`, `count` is reserved on the state with the
 * rows applied, so `maxReserved` bounds the whole debt. Denied: `retryAfter`
 * until both hold.
 */
export function decideAsync(
  c: NormalizedConfig,
  state: RateLimitState | null,
  rows: PendingRow[],
  seed: string,
  now: number,
  count: number,
  reserve: boolean,
): Exclude<Decision, { needSecondShard: true }> {
  const applied = foldRows(shardConfig(c), state, seed, rows);
  return decideOnApplied(c, state, applied, seed, now, count, reserve);
}

/**
 * `decideAsync` given the state with the rows already applied (`applied`),
 * e.g. computed from a chain link (`readChained`), which the call's own row
 * then records.
 */
export function decideOnApplied(
  c: NormalizedConfig,
  state: RateLimitState | null,
  applied: RateLimitState | null,
  seed: string,
  now: number,
  count: number,
  reserve: boolean,
): Exclude<Decision, { needSecondShard: true }> {
  const withRows = [{ shard: 0, state: applied }];
  const d = reserve
    ? decide(c, withRows, seed, now, count, true)
    : both(decide(c, [{ shard: 0, state }], seed, now, count), decide(c, withRows, seed, now, 0));
  if (!d.ok && d.needSecondShard)
    throw guardError(ErrorCode.INTERNAL, "a one-shard decision asked for a second shard");
  return d;
}

/** Admitted if both are; else denied until both are (the later retryAfter). */
function both(a: Decision, b: Decision): Decision {
  if (a.ok && b.ok) return a;
  const wait = (d: Decision) => (d.ok ? 0 : d.needSecondShard ? 0 : d.retryAfter);
  return { ok: false, retryAfter: Math.max(wait(a), wait(b)) };
}

/**
 * Records an admitted asynchronous call: one append, nothing read. `link`
 * (from a stale-snapshot decision) lets later calls start from this row.
 */
export async function appendPending(
  ctx: MutationCtx,
  row: { name: string; key: string; count: number; ts: number; config: RateLimitConfig },
  link?: ChainLink,
) {
  await ctx.db.insert("rateLimitPending", { ...row, ...link, at: ctx.db.vars.commitTs });
}

/**
 * Deletes the unfolded consumption of (name, key) (part of `reset`). Calls
 * were admitted all the same, so a limit with stats counts them first, as
 * the fold would have.
 */
export async function deletePending(ctx: MutationCtx, name: string, key: string) {
  for (;;) {
    const rows = await readPending(ctx.db, name, key);
    const counted = rows.filter((row) => row.config.stats === true);
    if (counted.length > 0) await foldAdmitted(ctx, { name, key }, counted);
    for (const row of rows) await ctx.db.delete("rateLimitPending", row._id);
    if (rows.length <= MAX_UNFOLDED) return;
  }
}

function seedOf(name: string, key: string): string {
  return `${name}\u0000${key}`;
}

/** Folds up to FOLD_BATCH rows committed at or before this pass's snapshot, in commit order. */
export async function foldPending(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const snapshot = ctx.meta.getSnapshotTs();
  const rows = await ctx.db
    .query("rateLimitPending")
    .withIndex("by_at", (q) => q.lte("at", snapshot))
    .take(FOLD_BATCH);
  const byKey = new Map<string, Doc<"rateLimitPending">[]>();
  for (const row of rows) {
    const id = seedOf(row.name, row.key);
    byKey.set(id, [...(byKey.get(id) ?? []), row]);
  }
  for (const group of byKey.values()) await foldKey(ctx, group, now);
  for (const row of rows) await ctx.db.delete("rateLimitPending", row._id);
  return { processed: rows.length, more: rows.length === FOLD_BATCH };
}

async function foldKey(ctx: MutationCtx, rows: Doc<"rateLimitPending">[], now: number) {
  const { name, key } = rows[0]!;
  // The latest call's config wins, as it would for a transactional call.
  const config = normalizeConfig(rows[rows.length - 1]!.config, name);
  const s = shardConfig(config);
  const seed = seedOf(name, key);
  const doc = await ctx.db
    .query("rateLimits")
    .withIndex("by_name_key_shard", (q) => q.eq("name", name).eq("key", key).eq("shard", 0))
    .unique();
  if (config.stats) await foldAdmitted(ctx, { name, key }, rows);
  const state = foldRows(s, doc && { value: doc.value, ts: doc.ts, prev: doc.prev }, seed, rows);
  if (state === null) return;
  const folded = (doc?.folded ?? 0) + unfoldedCount(rows);
  // Rows are in commit order, and committed (`at` <= the pass's snapshot): the last is the newest.
  const last = rows[rows.length - 1]!.at;
  const foldedThrough = typeof last === "bigint" ? last : doc?.foldedThrough;
  const fields = {
    value: state.value,
    ts: state.ts,
    idleAt: keepWhileBlocked(doc, idleAt(s, state, seed, now)),
    folded,
    ...(foldedThrough !== undefined ? { foldedThrough } : {}),
  };
  const prev = state.prev !== undefined ? { prev: state.prev } : {};
  if (doc) await ctx.db.patch("rateLimits", doc._id, { ...fields, ...prev });
  else await ctx.db.insert("rateLimits", { name, key, shard: 0, ...fields, ...prev });
}

/** When folding is next due: FOLD_DELAY_MS after the oldest unfolded call (one index read). */
export async function pendingDue(db: DatabaseReader): Promise<number | null> {
  const first = await db.query("rateLimitPending").withIndex("by_at").first();
  return first === null ? null : first.ts + FOLD_DELAY_MS;
}
