/**
 * Asynchronous limits (`applyUpdates: "asynchronously"`), for hot keys.
 *
 * A call in a mutation decides on a stale snapshot (`readAsyncView` in a
 * nested query, which adds nothing to the caller's read set) plus the rows
 * its own transaction appended (`readOwnRows`, a range no other transaction
 * can write into), and records an admitted call by appending one
 * `rateLimitPending` row stamped with its commit timestamp. No call writes a
 * document another call reads, so calls on one key never conflict. Every
 * caller (`limit`, `limitAll`, an API key's own limit) goes through this, in
 * ./store.ts.
 *
 * The admission rule (`decideOnApplied`): a call is admitted when the folded
 * state has room for it, as in `@convex-dev/rate-limiter`, and the unfolded
 * consumption it can see has not used that room up. So once everything
 * folds, the balance a call leaves is at worst minus its own count, plus the
 * consumption of other transactions that committed between its snapshot and
 * its commit (calls in flight at once), whatever the fold lag.
 *
 * What a decision reads (`readAsyncView`): not every unfolded row, but the
 * newest row that records the state its call decided on (`applied`, as of
 * its snapshot `upTo`) and the rows committed after that snapshot, i.e. the
 * calls in flight at that moment. Without overlapping calls that is the state
 * document, one link and one row, whatever the fold lag.
 *
 * `reset` marks the state document with its commit timestamp (`resetAt`): a
 * row decided on a snapshot before it (`upTo < resetAt`) is never counted,
 * by readers or by the fold, even if it commits after the reset.
 *
 * `foldPending` (a maintenance pass) applies rows in commit order to the
 * state document (shard 0) through the one writer (./shards.ts) and deletes
 * them, in one transaction: a failed pass changes nothing and the next one
 * folds the same rows. It reads rows only up to its snapshot timestamp, so
 * racing appends (which commit later) are outside its read set too.
 */
import type { Doc } from "../_generated/dataModel.js";
import type { DatabaseReader, MutationCtx } from "../_generated/server.js";
import type { MaintenanceResult } from "../maintenance/kick.js";
import type { ShardConfig, StoredState } from "./algorithms/index.js";
import { normalizeConfig, shardConfig, type NormalizedConfig } from "./config.js";
import { advance, decide, idleAt, type Decision } from "./math.js";
import type { RateLimitConfig, RateLimitState } from "./model.js";
import {
  readShard,
  stateOf,
  storedStateOf,
  storedTarget,
  writeState,
  type Target,
} from "./shards.js";
import { foldAdmitted } from "./stats.js";
import { max } from "../lib/math.js";

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
/** How long `reset`'s mark outlives it: longer than any call decided before it takes to commit. */
export const RESET_MARK_MS = 60_000;
/**
 * What `ctx.db.vars.commitTs` reads as inside the transaction that wrote it:
 * above every real commit timestamp, so the rows a transaction appended are
 * the range at or above it, which no other transaction can commit into.
 */
export const PENDING_AT = 2n ** 63n - 1n;

/** `logAt`: a reservation, logged when its work may run (as the transactional `reserve` logs it). */
export type PendingRow = { count: number; ts: number; logAt?: number };

function pendingRow(row: PendingRow): PendingRow {
  const { count, ts, logAt } = row;
  return logAt === undefined ? { count, ts } : { count, ts, logAt };
}

/**
 * A decision's view of a key on a snapshot: the folded state document's
 * state and block, and the start `base` (the state with every consumption
 * committed by some time applied) with the unfolded `rows` after it (in
 * commit order, at most MAX_UNFOLDED + 1). `upTo`: the snapshot.
 */
export type AsyncView = {
  folded: StoredState | null;
  blockedUntil?: number;
  blockReason?: string;
  base: StoredState | null;
  rows: PendingRow[];
  upTo: bigint;
};

/** What an admitted call's row records for later calls: its snapshot and the state it saw. */
export type ChainLink = { upTo: bigint; applied: StoredState | null };

/** Up to MAX_UNFOLDED + 1 unfolded rows of a target, in commit order. */
export function readPending(db: DatabaseReader, t: Target) {
  return db
    .query("rateLimitPending")
    .withIndex("by_name_key_at", (q) => q.eq("name", t.name).eq("key", t.key))
    .take(MAX_UNFOLDED + 1);
}

/** Does a target have unfolded rows? (One index read.) */
export async function hasPending(db: DatabaseReader, t: Target): Promise<boolean> {
  const row = await db
    .query("rateLimitPending")
    .withIndex("by_name_key_at", (q) => q.eq("name", t.name).eq("key", t.key))
    .first();
  return row !== null;
}

/**
 * The view of a target on this snapshot (`upTo`) of committed data, without
 * reading every unfolded row: the newest row with a link already holds the
 * state with everything committed up to its snapshot applied, so only the
 * rows committed after that are read. When the fold has gone past that
 * snapshot (`foldedThrough`), or a reset came after it, the state document is
 * the newer start. Either way the result equals applying every counted
 * unfolded row to the folded state, because folding is the same in-order
 * application.
 */
export async function readAsyncView(
  db: DatabaseReader,
  t: Target,
  upTo: bigint,
): Promise<AsyncView> {
  const doc = await readShard(db, t, 0);
  const link = await db
    .query("rateLimitPending")
    .withIndex("by_name_key_upTo", (q) => q.eq("name", t.name).eq("key", t.key))
    .order("desc")
    .first();
  const through = doc?.foldedThrough;
  const resetAt = committed(doc?.resetAt);
  const counts = (row: { upTo: bigint }) => resetAt === undefined || row.upTo >= resetAt;
  const useLink = link !== null && counts(link) && (through === undefined || link.upTo >= through);
  // Rows committed at a link's `upTo` were visible to its call, so: strictly after. Rows of
  // one transaction share `at`, and a fold batch may have split them, so: from `through` on.
  const rows = await db
    .query("rateLimitPending")
    .withIndex("by_name_key_at", (q) => {
      const keyed = q.eq("name", t.name).eq("key", t.key);
      if (useLink) return keyed.gt("at", link.upTo);
      return through === undefined ? keyed : keyed.gte("at", through);
    })
    .take(MAX_UNFOLDED + 1);
  const folded = storedStateOf(doc);
  return {
    folded,
    ...(doc?.blockedUntil !== undefined ? { blockedUntil: doc.blockedUntil } : {}),
    ...(doc?.blockReason !== undefined ? { blockReason: doc.blockReason } : {}),
    base: useLink ? link.applied : folded,
    rows: rows.filter(counts).map(pendingRow),
    upTo,
  };
}

/** A stored commit timestamp, once committed (inside its own transaction it is a placeholder). */
function committed(at: bigint | object | undefined): bigint | undefined {
  return typeof at === "bigint" ? at : undefined;
}

/** The rows this transaction appended for a target (invisible to a stale snapshot). */
export async function readOwnRows(db: DatabaseReader, t: Target): Promise<PendingRow[]> {
  const rows = await db
    .query("rateLimitPending")
    .withIndex("by_name_key_at", (q) => q.eq("name", t.name).eq("key", t.key).gte("at", PENDING_AT))
    .take(MAX_UNFOLDED + 1);
  return rows.map(pendingRow);
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
    const t = max(row.ts, st?.ts ?? row.ts);
    st = s.algorithm.take(s, advance(s, st, seed, t), row.count, max(row.logAt ?? t, t));
  }
  return st;
}

/**
 * The asynchronous admission rule, given the folded `state` and `applied`,
 * the state with every unfolded row the call can see applied. Without
 * `reserve`, a call is admitted when the folded state has room for `count`
 * (the peer's rule) and `applied` is not below zero: the last call admitted
 * may leave the balance at most its own count below zero once everything
 * folds. With `reserve`, `count` is reserved on `applied`, so `maxReserved`
 * bounds the whole debt. Denied: `retryAfter` until both hold.
 */
export function decideOnApplied(
  c: NormalizedConfig,
  state: RateLimitState | null,
  applied: RateLimitState | null,
  seed: string,
  now: number,
  count: number,
  reserve: boolean,
): Decision {
  const withRows = [{ shard: 0, state: applied }];
  if (reserve) return decide(c, withRows, seed, now, count, true);
  return both(
    decide(c, [{ shard: 0, state }], seed, now, count),
    decide(c, withRows, seed, now, 0),
  );
}

/** Admitted if both are; else denied until both are (the later retryAfter). */
function both(a: Decision, b: Decision): Decision {
  if (a.ok && b.ok) return a;
  const wait = (d: Decision) => (d.ok ? 0 : d.needSecondShard ? 0 : d.retryAfter);
  return { ok: false, retryAfter: max(wait(a), wait(b)) };
}

/** Records an admitted asynchronous call: one append, nothing read. */
export async function appendPending(
  ctx: MutationCtx,
  row: PendingRow & { name: string; key: string; config: RateLimitConfig },
  link: ChainLink,
) {
  await ctx.db.insert("rateLimitPending", { ...row, ...link, at: ctx.db.vars.commitTs });
}

/**
 * Deletes the unfolded consumption of a target (part of `reset`) and says
 * whether there was any. Calls were admitted all the same, so a limit with
 * stats counts them first, as the fold would have.
 */
export async function deletePending(ctx: MutationCtx, t: Target): Promise<boolean> {
  let any = false;
  for (;;) {
    const rows = await readPending(ctx.db, t);
    const counted = rows.filter((row) => row.config.stats === true);
    if (counted.length > 0) await foldAdmitted(ctx, t, counted);
    for (const row of rows) await ctx.db.delete("rateLimitPending", row._id);
    any ||= rows.length > 0;
    if (rows.length <= MAX_UNFOLDED) return any;
  }
}

/** Folds up to FOLD_BATCH rows committed at or before this pass's snapshot, in commit order. */
export async function foldPending(ctx: MutationCtx): Promise<MaintenanceResult> {
  const snapshot = ctx.meta.getSnapshotTs();
  const rows = await ctx.db
    .query("rateLimitPending")
    .withIndex("by_at", (q) => q.lte("at", snapshot))
    .take(FOLD_BATCH);
  const byKey = new Map<string, Doc<"rateLimitPending">[]>();
  for (const row of rows) {
    const id = storedTarget(row).seed;
    byKey.set(id, [...(byKey.get(id) ?? []), row]);
  }
  for (const group of byKey.values()) await foldKey(ctx, group);
  for (const row of rows) await ctx.db.delete("rateLimitPending", row._id);
  return { processed: rows.length, more: rows.length === FOLD_BATCH };
}

/**
 * Folds a target's unfolded rows now, in the caller's transaction (`credit`
 * gives back consumption, so it must see all of it). This reads the key's
 * pending range for real: a credit can conflict with calls on its key.
 */
export async function foldTarget(ctx: MutationCtx, t: Target) {
  for (;;) {
    const rows = await readPending(ctx.db, t);
    await foldKey(ctx, rows);
    for (const row of rows) await ctx.db.delete("rateLimitPending", row._id);
    if (rows.length <= MAX_UNFOLDED) return;
  }
}

async function foldKey(ctx: MutationCtx, rows: Doc<"rateLimitPending">[]) {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first === undefined || last === undefined) return;
  const t = storedTarget(first);
  // The latest call's config wins, as it would for a transactional call.
  const config = normalizeConfig(last.config, t.name);
  const s = shardConfig(config);
  const doc = await readShard(ctx.db, t, 0);
  if (config.stats) await foldAdmitted(ctx, t, rows);
  const resetAt = committed(doc?.resetAt);
  const counted = rows.filter((row) => resetAt === undefined || row.upTo >= resetAt);
  const state = foldRows(s, stateOf(config.algorithm, doc), t.seed, counted);
  // Rows are committed (`at` <= the pass's snapshot) and in commit order: the last is the newest.
  const foldedThrough = committed(last.at);
  if (state === null) {
    if (doc !== null && foldedThrough !== undefined)
      await ctx.db.patch("rateLimits", doc._id, { foldedThrough });
    return;
  }
  // Idle from the state's own time, as a transactional write of it computes at
  // its call, not from the fold's clock: a state that went idle before the
  // fold would otherwise outlive its transactional twin's in the sweep, and
  // after a config change the kept state and the swept one decide differently.
  const idle = idleAt(s, state, t.seed, state.ts);
  await writeState(ctx, t, 0, doc, config.algorithm, state, idle, {
    ...(foldedThrough !== undefined ? { foldedThrough } : {}),
  });
}

/** When folding is next due: FOLD_DELAY_MS after the oldest unfolded call (one index read). */
export async function pendingDue(db: DatabaseReader): Promise<number | null> {
  const first = await db.query("rateLimitPending").withIndex("by_at").first();
  return first === null ? null : first.ts + FOLD_DELAY_MS;
}
