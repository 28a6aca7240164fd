import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { internalMutation, internalQuery, mutation, query } from "./_generated/server.js";
import { vLogLevel } from "./lib/logging.js";
import {
  claimLoopState,
  liveTick,
  loopLogger,
  loopView,
  readLoopState,
  tickGeneration,
} from "./maintenance/kick.js";
import { emptyRound, errorMessage, settle } from "./maintenance/loop.js";
import { CAPABILITIES, capabilities, type Capability } from "./maintenance/registry.js";
import { maintenanceStatus, vMaintenanceStatus } from "./maintenance/status.js";

/**
 * The component's one background loop. Exactly one tick is scheduled while any
 * capability has work due (at its earliest due time), none when nothing is:
 * an idle deployment runs no scheduled function. Insert paths wake it through
 * ./maintenance/kick.ts, which also says why deleting or editing the state
 * row cannot fork it.
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

/** The state row's tick time; called on a stale snapshot, so it adds no read dependency. */
export const peek = internalQuery({
  args: {},
  returns: v.union(v.number(), v.null()),
  handler: async (ctx) => loopView(await readLoopState(ctx)),
});

/** One capability's pass as its own sub-transaction, so a failure rolls back only its writes. */
export const pass = internalMutation({
  args: { capability: vCapability, now: v.number() },
  returns: vPassResult,
  handler: async (ctx, { capability, now }) => capabilities[capability].pass(ctx, now),
});

/**
 * A scheduled tick. Internal: only the component schedules it. It runs only
 * while the state row names it (a deleted row is first recreated naming the
 * newest live tick). Each capability runs isolated, so one failing
 * pass (a bug, a hand-edited row) can neither undo the others' work nor stop
 * the loop: it is recorded, logged, and retried after a back-off.
 */
export const tick = internalMutation({
  args: { generation: v.string() },
  returns: v.null(),
  handler: async (ctx, { generation }) => {
    const now = Date.now();
    const state = await claimLoopState(ctx, now);
    const log = await loopLogger(ctx, state);
    const live = await liveTick(ctx, state);
    const next = state?.nextTick;
    if (
      state === null ||
      next === undefined ||
      live === null ||
      tickGeneration(live) !== generation
    ) {
      log.debug(`maintenance tick ${generation} is not the loop's tick; exiting`);
      return null;
    }
    // Running now: wake-ups from the passes see a tick that is not late and leave it.
    if (next.at !== now)
      await ctx.db.patch("guardState", state._id, { nextTick: { ...next, at: now } });
    const round = emptyRound();
    for (const capability of CAPABILITIES) {
      try {
        const r = await ctx.runMutation(internal.maintenance.pass, { capability, now });
        round.processed[capability] = r.processed;
        round.more ||= r.more;
      } catch (e) {
        round.failed.push({ capability, message: errorMessage(e) });
        log.error(`the ${capability} maintenance pass failed:`, errorMessage(e));
      }
    }
    const outcome = await settle(ctx, now, round, generation);
    log.debug("maintenance tick done", outcome);
    return null;
  },
});

/**
 * One bounded round of every pass, run now in the caller's transaction (it
 * throws if a pass throws). Then it heals the schedule: if work is still due
 * and no live tick is pending early enough (never started, cancelled, failed,
 * an edited state row), it schedules one; if nothing is due, it cancels the
 * pending tick. For tests, scripts and hosts driving maintenance from a cron.
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
    await settle(ctx, now, round);
    return { ...round.processed, more: round.more };
  },
});

/**
 * Sets the level of what the component logs (default WARN: failing passes,
 * ticks that will not run, events the sealer set aside). Stored in the loop
 * state row; a deleted row falls back to the default.
 */
export const setLogLevel = mutation({
  args: { level: vLogLevel },
  returns: v.null(),
  handler: async (ctx, { level }) => {
    const state = await claimLoopState(ctx, Date.now());
    if (state === null)
      await ctx.db.insert("guardState", {
        kind: "maintenance",
        startedAt: Date.now(),
        logLevel: level,
      });
    else await ctx.db.patch("guardState", state._id, { logLevel: level });
    return null;
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
