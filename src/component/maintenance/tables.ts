import { defineTable } from "convex/server";
import { v } from "convex/values";

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

/** The maintenance loop's tables. */
export const maintenanceTables = {
  // One row: the loop's schedule. Insert paths read it through a stale
  // snapshot (no read dependency) and write it only when they change the
  // schedule; ticks rewrite it. Fields are optional so that a row written by
  // an older version (`{ kind, startedAt }`) still validates: it reads as
  // "nothing scheduled" and the next wake-up replaces it.
  guardState: defineTable({
    kind: v.literal("maintenance"),
    startedAt: v.number(),
    /** Changes every time a tick is scheduled; a tick with another one exits at once. */
    generation: v.optional(v.string()),
    /** When the one pending tick runs; absent when nothing is scheduled (idle). */
    dueAt: v.optional(v.number()),
    jobId: v.optional(v.id("_scheduled_functions")),
    /** Set only inside a running tick's own transaction: wake-ups it triggers are no-ops. */
    running: v.optional(v.boolean()),
    lastTick: v.optional(vTickOutcome),
  }).index("by_kind", ["kind"]),
};
