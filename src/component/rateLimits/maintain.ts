/**
 * The rate limiter's maintenance pass (run by the one loop, see
 * ../maintenance/registry.ts): the idle-key sweep, the asynchronous fold and
 * the usage stats, each a bounded batch.
 */
import type { MutationCtx } from "../_generated/server.js";
import type { MaintenanceResult } from "../maintenance/kick.js";
import { foldPending } from "./async.js";
import * as stats from "./stats.js";

/** Documents the idle-key sweep deletes per maintenance pass. */
export const SWEEP_BATCH = 256;

/**
 * Deletes documents past their `idleAt` (equivalent to no document: the
 * state is idle, and any block on it has ended), then folds and counts.
 */
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
