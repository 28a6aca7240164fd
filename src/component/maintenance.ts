import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { internalMutation, mutation, type MutationCtx } from "./_generated/server.js";
import { SECOND, MINUTE } from "../shared/time.js";
import { maintainRateLimits } from "./rateLimits.js";
import { maintainAudit } from "./audit.js";
import { maintainCodes } from "./codes.js";

/**
 * The component's one background loop. It deletes idle rate-limit state,
 * seals audit events, applies audit retention and deletes dead confirmation
 * codes, each in bounded batches. One loop serves all capabilities so an idle
 * deployment pays for one scheduled call per IDLE_TICK_MS, not one per feature.
 */

/** Delay before the next tick when the last one left work behind. */
export const BUSY_TICK_MS = 1 * SECOND;
/** Delay before the next tick when everything was done. */
export const IDLE_TICK_MS = 1 * MINUTE;

/** What one capability did in one pass: how many items, and whether more wait. */
export type MaintenanceResult = { processed: number; more: boolean };

const passResult = v.object({
  rateLimits: v.number(),
  audit: v.number(),
  codes: v.number(),
  more: v.boolean(),
});

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

/** Each capability's bounded pass, by name. Mutable only so tests can inject a failure. */
export const passes = {
  rateLimits: maintainRateLimits,
  audit: maintainAudit,
  codes: maintainCodes,
};
type Capability = keyof typeof passes;
const CAPABILITIES = Object.keys(passes) as Capability[];

const capabilityV = v.union(v.literal("rateLimits"), v.literal("audit"), v.literal("codes"));
const resultV = v.object({ processed: v.number(), more: v.boolean() });

async function runPass(ctx: MutationCtx, now: number) {
  const out = { rateLimits: 0, audit: 0, codes: 0, more: false };
  for (const capability of CAPABILITIES) {
    const r = await passes[capability](ctx, now);
    out[capability] = r.processed;
    out.more ||= r.more;
  }
  return out;
}

/** One capability's pass as its own sub-transaction, so a failure rolls back only its writes. */
export const pass = internalMutation({
  args: { capability: capabilityV, now: v.number() },
  returns: resultV,
  handler: async (ctx, { capability, now }) => passes[capability](ctx, now),
});

/**
 * The self-scheduling tick. Internal: only the component schedules it. Each
 * capability runs isolated and the next tick is scheduled whatever happens,
 * so one failing pass (a bug, a corrupted row) can neither undo the others'
 * work nor stop the loop: it is retried on the next tick and logged.
 */
export const tick = internalMutation({
  args: {},
  returns: passResult,
  handler: async (ctx) => {
    const now = Date.now();
    const result = { rateLimits: 0, audit: 0, codes: 0, more: false };
    for (const capability of CAPABILITIES) {
      try {
        const r = await ctx.runMutation(internal.maintenance.pass, { capability, now });
        result[capability] = r.processed;
        result.more ||= r.more;
      } catch (e) {
        console.error(`convex-guard: the ${capability} maintenance pass failed; retrying on the next tick`, e);
      }
    }
    await ctx.scheduler.runAfter(result.more ? BUSY_TICK_MS : IDLE_TICK_MS, internal.maintenance.tick, {});
    return result;
  },
});

/**
 * One bounded maintenance pass, run now, without scheduling anything. For
 * tests, demos, and hosts that prefer to drive maintenance from their own cron.
 */
export const runNow = mutation({
  args: {},
  returns: passResult,
  handler: async (ctx) => runPass(ctx, Date.now()),
});
