import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { internalMutation, mutation, type MutationCtx } from "./_generated/server.js";
import { BUSY_TICK_MS, IDLE_TICK_MS } from "./maintenance/kick.js";
import { maintainRateLimits } from "./rateLimits/store.js";
import { maintainAudit } from "./audit.js";
import { maintainCodes } from "./codes.js";
import { maintainApiKeys } from "./apiKeys.js";

/**
 * The component's one background loop. It deletes idle rate-limit state,
 * seals audit events, applies audit retention, deletes dead confirmation
 * codes and the kept metadata of long-dead API keys, each in bounded batches. One loop serves all capabilities so an idle
 * deployment pays for one scheduled call per IDLE_TICK_MS, not one per feature.
 */

/** Each capability's bounded pass, by name. Mutable only so tests can inject a failure. */
export const passes = {
  rateLimits: maintainRateLimits,
  audit: maintainAudit,
  codes: maintainCodes,
  apiKeys: maintainApiKeys,
};
type Capability = keyof typeof passes;
const CAPABILITIES = Object.keys(passes) as Capability[];

const capabilityV = v.union(
  v.literal("rateLimits"),
  v.literal("audit"),
  v.literal("codes"),
  v.literal("apiKeys"),
);
const resultV = v.object({ processed: v.number(), more: v.boolean() });
const passResult = v.object({
  rateLimits: v.number(),
  audit: v.number(),
  codes: v.number(),
  apiKeys: v.number(),
  more: v.boolean(),
});

async function runPass(ctx: MutationCtx, now: number) {
  const out = { rateLimits: 0, audit: 0, codes: 0, apiKeys: 0, more: false };
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
    const result = { rateLimits: 0, audit: 0, codes: 0, apiKeys: 0, more: false };
    for (const capability of CAPABILITIES) {
      try {
        const r = await ctx.runMutation(internal.maintenance.pass, { capability, now });
        result[capability] = r.processed;
        result.more ||= r.more;
      } catch (e) {
        console.error(
          `convex-guard: the ${capability} maintenance pass failed; retrying on the next tick`,
          e,
        );
      }
    }
    await ctx.scheduler.runAfter(
      result.more ? BUSY_TICK_MS : IDLE_TICK_MS,
      internal.maintenance.tick,
      {},
    );
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
