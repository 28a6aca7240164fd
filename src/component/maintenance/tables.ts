import { defineTable } from "convex/server";
import { v } from "convex/values";
import { vLogLevel } from "../lib/logging.js";

/** What the last tick (or `runNow`) did, for `maintenance.status`. */
export const vTickOutcome = v.object({
  at: v.number(),
  /** Items each capability processed, by capability name. */
  processed: v.record(v.string(), v.number()),
  /** Passes that threw, with their error message (rolled back, retried later). */
  failed: v.array(v.object({ capability: v.string(), message: v.string() })),
  /** Passes that threw on consecutive ticks: the next tick backs off exponentially. */
  consecutiveFailures: v.number(),
});

/** The one scheduled tick the loop counts on. */
export const vNextTick = v.object({
  /**
   * Random, and carried in the tick's arguments: a tick runs only while the
   * row names its generation, so a replaced tick exits.
   */
  generation: v.string(),
  /** Its `_scheduled_functions` job: the truth about whether it will run. */
  jobId: v.id("_scheduled_functions"),
  /** When it runs (the job's time), kept here so a wake-up decides from one stale read. */
  at: v.number(),
});

/** The maintenance loop's tables. */
export const maintenanceTables = {
  // One row: the loop's schedule. Insert paths read it through a stale
  // snapshot (no read dependency) and write it only when they change the
  // schedule; ticks rewrite it. Deleting or editing it cannot start a second
  // loop (see ./kick.ts).
  guardState: defineTable({
    kind: v.literal("maintenance"),
    startedAt: v.number(),
    /** Absent when nothing is scheduled (idle). */
    nextTick: v.optional(vNextTick),
    lastTick: v.optional(vTickOutcome),
    /** The component's log level (`maintenance.setLogLevel`); absent: WARN. */
    logLevel: v.optional(vLogLevel),
  }).index("by_kind", ["kind"]),
};
