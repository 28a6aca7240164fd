/**
 * The rate limiter's maintenance pass (run by the one loop, see
 * ../maintenance/registry.ts): the idle-key sweep, the asynchronous fold and
 * the usage stats, each a bounded batch.
 */
import type { MutationCtx } from "../_generated/server.js";
import type { MaintenanceResult } from "../maintenance/kick.js";
import { foldPending, hasPending } from "./async.js";
import { NO_STATE, storedTarget } from "./shards.js";
import * as stats from "./stats.js";

/** Documents the idle-key sweep deletes per maintenance pass. */
export const SWEEP_BATCH = 256;

/**
 * Folds asynchronous consumption, then deletes documents past their
 * `idleAt` (equivalent to no document: the state is idle, and any block on
 * it has ended), then counts. An asynchronous limit's document is kept while
 * rows of its key are still unfolded: they were decided on its state, and
 * folding them onto no document would forget what it held. A document whose
 * reset mark must stay longer (`resetUntil`) loses its state instead, which
 * decides exactly as no document, and keeps the mark until then.
 */
export async function maintainRateLimits(
  ctx: MutationCtx,
  now: number,
): Promise<MaintenanceResult> {
  const folded = await foldPending(ctx);
  const idle = await ctx.db
    .query("rateLimits")
    .withIndex("by_idleAt", (q) => q.lt("idleAt", now))
    .take(SWEEP_BATCH);
  const gone = [];
  for (const doc of idle) {
    if (doc.foldedThrough !== undefined || doc.resetAt !== undefined) {
      if (await hasPending(ctx.db, storedTarget(doc))) continue;
    }
    gone.push(doc);
  }
  await stats.foldCounters(ctx, gone);
  for (const doc of gone) {
    if (doc.resetUntil !== undefined && doc.resetUntil > now) {
      await ctx.db.patch("rateLimits", doc._id, {
        ...NO_STATE,
        idleAt: doc.resetUntil,
        ...stats.NO_COUNTERS,
      });
    } else {
      await ctx.db.delete("rateLimits", doc._id);
    }
  }
  const counted = await stats.maintainStats(ctx, now);
  return {
    processed: idle.length + folded.processed + counted.processed,
    more: idle.length === SWEEP_BATCH || folded.more || counted.more,
  };
}
