import { internal } from "../_generated/api.js";
import type { Doc } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { toHex } from "../lib/hash.js";
import {
  KICK_DELAY_MS,
  MAX_TICK_DELAY_MS,
  staleViewCovers,
  stateCovers,
  type LoopView,
} from "./schedule.js";

/**
 * What insert paths need from the maintenance loop: wake it when they create
 * work due earlier than the pending tick. This leaf module imports no
 * capability, so every capability can import it without an import cycle
 * through maintenance.ts (which imports their passes).
 */

/** What one capability did in one pass: how many items, and whether more wait. */
export type MaintenanceResult = { processed: number; more: boolean };

/**
 * A capability's part of the loop. `pass` does one bounded batch of due work;
 * `nextDue` returns the earliest time any of its pending work is due (read by
 * index, a few documents), or null when it has none; `backlog` counts what
 * is due for `maintenance.status`. The loop runs while some
 * capability has work due and is idle otherwise.
 */
export type MaintenancePass = {
  pass: (ctx: MutationCtx, now: number) => Promise<MaintenanceResult>;
  nextDue: (ctx: QueryCtx, now: number) => Promise<number | null>;
  /** What `maintenance.status` shows: bounded counts, as sentences with `{n}`. */
  backlog: (
    ctx: QueryCtx,
    now: number,
  ) => Promise<{ template: string; count: number; atLeast: boolean }[]>;
};

/** The loop's state row (null before the first wake-up, or after someone deleted it). */
export async function readLoopState(ctx: QueryCtx): Promise<Doc<"guardState"> | null> {
  return ctx.db
    .query("guardState")
    .withIndex("by_kind", (q) => q.eq("kind", "maintenance"))
    .first(); // not unique(): a stray duplicate row must never break every insert path
}

/** The fields `peek` returns: what a wake-up needs to decide. */
export function loopView(state: Doc<"guardState"> | null): LoopView {
  if (state === null) return null;
  return { dueAt: state.dueAt, generation: state.generation, running: state.running };
}

/**
 * Makes sure a tick runs no later than `dueAt`. Called by insert paths after
 * they create work. Without `dueAt` (work whose lateness costs only storage),
 * any pending tick will do, since every tick schedules the next one for the
 * earliest due work; if none is pending, one is scheduled soon.
 *
 * The common case costs one stale-snapshot read and adds nothing to the
 * caller's read set: when a tick is already pending early enough, concurrent
 * callers share no document and never conflict, and a tick committing
 * meanwhile does not make them retry. Only when the schedule must change
 * (idle, a later tick, a lost tick) or the pending tick is imminent does it
 * read the state for real, and it writes only to change the schedule: once per
 * idle → scheduled transition or earlier due time, never per call.
 */
export async function ensureMaintenance(
  ctx: MutationCtx,
  now: number,
  dueAt?: number,
): Promise<void> {
  const needBy = dueAt ?? Infinity;
  const view = await ctx.runQuery(internal.maintenance.peek, {}, { useStaleSnapshot: true });
  if (staleViewCovers(view, now, needBy)) return;
  const state = await readLoopState(ctx);
  if (stateCovers(loopView(state), now, needBy)) return;
  const at = Math.max(dueAt ?? now, now + KICK_DELAY_MS);
  await scheduleTick(ctx, state, now, Math.min(at, now + MAX_TICK_DELAY_MS));
}

/**
 * Replaces the pending tick (if any) by one at `at` under a new generation, so
 * the replaced one exits if it still runs. Recreates a deleted state row.
 */
export async function scheduleTick(
  ctx: MutationCtx,
  state: Doc<"guardState"> | null,
  now: number,
  at: number,
): Promise<void> {
  if (state?.jobId !== undefined) {
    const job = await ctx.db.system.get("_scheduled_functions", state.jobId);
    if (job?.state.kind === "pending") await ctx.scheduler.cancel(state.jobId);
  }
  const generation = newGeneration();
  const jobId = await ctx.scheduler.runAt(at, internal.maintenance.tick, { generation });
  const fields = { generation, dueAt: at, jobId, running: undefined };
  if (state === null) {
    await ctx.db.insert("guardState", { kind: "maintenance", startedAt: now, ...fields });
  } else {
    await ctx.db.patch("guardState", state._id, fields);
  }
}

/** Random, so a row recreated after a deletion can never reuse a live tick's generation. */
function newGeneration(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(8)));
}
