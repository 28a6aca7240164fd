/**
 * The rate-limit writes that are not a limit decision: `reset`, `credit` and
 * the maintenance pass (the idle-key sweep, the asynchronous fold, stats).
 */
import type { MutationCtx } from "../_generated/server.js";
import type { MaintenanceResult } from "../maintenance/kick.js";
import { deletePending, foldPending } from "./async.js";
import { keepWhileBlocked } from "./blocks.js";
import { MAX_SHARDS, assertCount, normalizeConfig, shardConfig } from "./config.js";
import { creditState, idleAt } from "./math.js";
import type { RateLimitConfig } from "./model.js";
import { publicTarget, randomInt, readShard, seedOf, toState } from "./shards.js";
import * as stats from "./stats.js";

/** Documents the idle-key sweep deletes per maintenance pass. */
export const SWEEP_BATCH = 256;

/** Deletes the state of (name, key) on every shard. */
export async function resetRateLimit(ctx: MutationCtx, name: string, key: string): Promise<void> {
  const docs = await ctx.db
    .query("rateLimits")
    .withIndex("by_name_key_shard", (q) => q.eq("name", name).eq("key", key))
    .take(MAX_SHARDS);
  for (const doc of docs) {
    await stats.flushCounters(ctx, doc);
    await ctx.db.delete("rateLimits", doc._id);
  }
  await deletePending(ctx, name, key);
}

/** `reset` for a public caller: validates name (not reserved) and key. */
export async function resetPublic(ctx: MutationCtx, args: { name: string; key?: string }) {
  const { name, key } = publicTarget(args);
  await resetRateLimit(ctx, name, key);
}

/** Deletes state of idle keys (idleAt passed: equivalent to no state) in one bounded batch. */
export async function maintainRateLimits(
  ctx: MutationCtx,
  now: number,
): Promise<MaintenanceResult> {
  const idle = await ctx.db
    .query("rateLimits")
    .withIndex("by_idleAt", (q) => q.lt("idleAt", now))
    .take(SWEEP_BATCH);
  await stats.foldCounters(ctx, idle);
  for (const doc of idle) await ctx.db.delete("rateLimits", doc._id);
  const folded = await foldPending(ctx, now);
  const counted = await stats.maintainStats(ctx, now);
  return {
    processed: idle.length + folded.processed + counted.processed,
    more: idle.length === SWEEP_BATCH || folded.more || counted.more,
  };
}

/**
 * Gives back up to `count` unused tokens, never above a shard's capacity;
 * touches at most two shards. Returns how much was credited.
 */
export async function creditRateLimit(
  ctx: MutationCtx,
  args: { name: string; key?: string; count: number; config: RateLimitConfig },
  now: number,
): Promise<{ credited: number }> {
  const { name, key } = publicTarget(args);
  const config = normalizeConfig(args.config, name);
  assertCount(args.count, name);
  const s = shardConfig(config);
  const seed = seedOf(name, key);
  const n = config.shards;
  const first = n === 1 ? 0 : randomInt(n);
  const order = n === 1 ? [first] : [first, (first + 1 + randomInt(n - 1)) % n];
  let left = args.count;
  for (const shard of order) {
    if (left <= 0) break;
    const doc = await readShard(ctx.db, name, key, shard);
    if (doc === null) continue; // no document = full
    const c = creditState(s, toState(doc)!, seed, now, left);
    if (c.credited <= 0) continue;
    left -= c.credited;
    await ctx.db.patch("rateLimits", doc._id, {
      ...c.state,
      idleAt: keepWhileBlocked(doc, idleAt(s, c.state, seed, now)),
    });
  }
  return { credited: args.count - left };
}
