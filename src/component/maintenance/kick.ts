import { internal } from "../_generated/api.js";
import type { MutationCtx } from "../_generated/server.js";
import { SECOND, MINUTE } from "../lib/time.js";

/**
 * The only thing insert paths need from the maintenance loop: start it. This
 * leaf module imports no capability, so every capability can import it
 * without an import cycle through maintenance.ts (which imports their passes).
 */

/** Delay before the next tick when the last one left work behind. */
export const BUSY_TICK_MS = 1 * SECOND;
/** Delay before the next tick when everything was done. */
export const IDLE_TICK_MS = 1 * MINUTE;

/** What one capability did in one pass: how many items, and whether more wait. */
export type MaintenanceResult = { processed: number; more: boolean };

/**
 * Starts the loop if it has never started. Called on insert paths only (a new
 * rate-limit key, an audit event, a new code). It reads one document that is
 * written once in the component's lifetime, so concurrent callers never
 * conflict on it.
 */
export async function ensureMaintenance(ctx: MutationCtx, now: number): Promise<void> {
  const state = await ctx.db
    .query("guardState")
    .withIndex("by_kind", (q) => q.eq("kind", "maintenance"))
    .first(); // not unique(): a stray duplicate row must never break every insert path
  if (state !== null) return;
  await ctx.db.insert("guardState", { kind: "maintenance", startedAt: now });
  await ctx.scheduler.runAfter(BUSY_TICK_MS, internal.maintenance.tick, {});
}
