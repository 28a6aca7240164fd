import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import type { MaintenanceResult } from "../maintenance/kick.js";

/*
 * Retention: the maintenance pass deletes the metadata of keys that stopped
 * working (revoked or expired) `retention` ago, by the `by_purgeAt` index.
 */

/** Rows the maintenance pass deletes per run. */
export const API_KEY_SWEEP_BATCH = 200;

/** Deletes the metadata of keys whose purgeAt has passed, in one bounded batch. */
export async function maintainApiKeys(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const rows = await ctx.db
    .query("apiKeys")
    .withIndex("by_purgeAt", (q) => q.gte("purgeAt", 0).lte("purgeAt", now))
    .take(API_KEY_SWEEP_BATCH + 1);
  const batch = rows.slice(0, API_KEY_SWEEP_BATCH);
  for (const row of batch) await ctx.db.delete("apiKeys", row._id);
  return { processed: batch.length, more: rows.length > API_KEY_SWEEP_BATCH };
}

/** When the next row becomes due for deletion, or null when none will. One index read. */
export async function nextApiKeyDue(ctx: QueryCtx): Promise<number | null> {
  const row = await ctx.db
    .query("apiKeys")
    .withIndex("by_purgeAt", (q) => q.gte("purgeAt", 0))
    .first();
  return row?.purgeAt ?? null;
}
