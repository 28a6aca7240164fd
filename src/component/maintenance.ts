import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { internalMutation, internalQuery, mutation, query } from "./_generated/server.js";
import { loopView, readLoopState } from "./maintenance/kick.js";
import { emptyRound, errorMessage, settle } from "./maintenance/loop.js";
import { CAPABILITIES, capabilities, type Capability } from "./maintenance/registry.js";
import { maintenanceStatus, vMaintenanceStatus } from "./maintenance/status.js";

/**
 * The component's one background loop. Exactly one tick is scheduled while any
 * capability has work due (at its earliest due time), none when nothing is:
 * an idle deployment runs no scheduled function. Insert paths wake it through
 * ./maintenance/kick.ts; a tick whose generation is not the state's exits.
 */

const vCapability = v.union(...CAPABILITIES.map((c) => v.literal(c)));
const vPassResult = v.object({ processed: v.number(), more: v.boolean() });
const vRoundResult = v.object({
  ...(Object.fromEntries(CAPABILITIES.map((c) => [c, v.number()])) as Record<
    Capability,
    ReturnType<typeof v.number>
  >),
  more: v.boolean(),
});
const vLoopView = v.union(
  v.null(),
  v.object({
    dueAt: v.optional(v.number()),
    generation: v.optional(v.string()),
    running: v.optional(v.boolean()),
  }),
);

/** The loop state as a wake-up needs it; called on a stale snapshot, so it adds no read dependency. */
export const peek = internalQuery({
  args: {},
  returns: vLoopView,
  handler: async (ctx) => loopView(await readLoopState(ctx)),
});

/** One capability's pass as its own sub-transaction, so a failure rolls back only its writes. */
export const pass = internalMutation({
  args: { capability: vCapability, now: v.number() },
  returns: vPassResult,
  handler: async (ctx, { capability, now }) => capabilities[capability].pass(ctx, now),
});

/**
 * A scheduled tick. Internal: only the component schedules it. Each capability
 * runs isolated, so one failing pass (a bug, a hand-edited row) can neither
 * undo the others' work nor stop the loop: it is recorded, logged, and
 * retried after a back-off.
 */
export const tick = internalMutation({
  args: { generation: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, { generation }) => {
    const now = Date.now();
    const state = await readLoopState(ctx);
    // Superseded by a newer schedule (or left over from an older version): exit.
    if (state !== null && (state.generation === undefined || state.generation !== generation))
      return null;
    // A deleted state row is recreated by the tick that finds it missing.
    const stateId =
      state?._id ?? (await ctx.db.insert("guardState", { kind: "maintenance", startedAt: now }));
    await ctx.db.patch("guardState", stateId, { running: true });
    const round = emptyRound();
    for (const capability of CAPABILITIES) {
      try {
        const r = await ctx.runMutation(internal.maintenance.pass, { capability, now });
        round.processed[capability] = r.processed;
        round.more ||= r.more;
      } catch (e) {
        round.failed.push({ capability, message: errorMessage(e) });
        console.error(`convex-guard: the ${capability} maintenance pass failed`, e);
      }
    }
    await settle(ctx, now, round, true);
    return null;
  },
});

/**
 * One bounded round of every pass, run now in the caller's transaction (it
 * throws if a pass throws). Then it heals the schedule: if work is still due
 * and no tick is pending early enough (never started, cancelled, lost), it
 * schedules one. For tests, scripts and hosts driving maintenance from a cron.
 */
export const runNow = mutation({
  args: {},
  returns: vRoundResult,
  handler: async (ctx) => {
    const now = Date.now();
    const round = emptyRound();
    for (const capability of CAPABILITIES) {
      const r = await capabilities[capability].pass(ctx, now);
      round.processed[capability] = r.processed;
      round.more ||= r.more;
    }
    await settle(ctx, now, round, false);
    return { ...round.processed, more: round.more };
  },
});

/**
 * What is pending per capability, when the next tick runs, and how the last
 * one went, with readable summary lines for an admin page.
 */
export const status = query({
  args: {},
  returns: vMaintenanceStatus,
  handler: async (ctx) => maintenanceStatus(ctx, Date.now()),
});
