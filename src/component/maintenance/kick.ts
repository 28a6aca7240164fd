import type { DocumentByName, SystemDataModel } from "convex/server";
import { internal } from "../_generated/api.js";
import type { Doc, Id } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { toHex } from "../lib/hash.js";
import { createLogger, type Logger } from "../lib/logging.js";
import {
  KICK_DELAY_MS,
  MAX_TICK_DELAY_MS,
  isLate,
  liveTickCovers,
  staleViewCovers,
} from "./schedule.js";
import { max, min } from "../lib/math.js";

/**
 * What insert paths need from the maintenance loop: wake it when they create
 * work due earlier than the pending tick. This leaf module imports no
 * capability, so every capability can import it without an import cycle
 * through maintenance.ts (which imports their passes).
 *
 * One loop, whatever happens to its state row. The row names the one tick
 * the loop counts on (`nextTick`: generation, job, time); a tick runs only
 * while the row names its job and generation. Whether that tick will run is read from
 * its job (`liveTick`), never from the row alone: a cancelled, failed or
 * edited-away job is no tick. Wake-ups, on the hot path, believe the row's
 * time until the tick is LOST_TICK_GRACE_MS late and then replace it
 * (cancelling the old job if it is still pending); `runNow` and `status`
 * check the job. With the row deleted, the loop's tick is the newest
 * scheduled job if it is a tick that will run: the component schedules
 * nothing but ticks, and each scheduling supersedes the one before. The first
 * transaction that finds the row missing recreates it naming that job, so
 * older pending ticks stay stale and deleting the row never starts a second
 * loop.
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

export type LoopState = Doc<"guardState">;
export type TickJob = DocumentByName<SystemDataModel, "_scheduled_functions">;

/**
 * The loop's state row (null before the first wake-up, or after someone
 * deleted it): the oldest, so a stray row inserted later is ignored (and
 * deleted by the next tick or `runNow`), never breaks an insert path.
 */
export async function readLoopState(ctx: QueryCtx): Promise<LoopState | null> {
  return ctx.db
    .query("guardState")
    .withIndex("by_kind", (q) => q.eq("kind", "maintenance"))
    .first();
}

/**
 * `claimLoopState` that also deletes state rows after the first (a stray row
 * an admin inserted), a few per call; as cheap as it when there is none.
 */
export async function claimLoopStateDroppingStrays(
  ctx: MutationCtx,
  now: number,
): Promise<LoopState | null> {
  const rows = await ctx.db
    .query("guardState")
    .withIndex("by_kind", (q) => q.eq("kind", "maintenance"))
    .take(10);
  const [state, ...strays] = rows;
  if (state === undefined) return claimLoopState(ctx, now);
  for (const stray of strays) await ctx.db.delete("guardState", stray._id);
  if (strays.length > 0)
    (await loopLogger(ctx, state)).warn(`deleted ${strays.length} stray maintenance state rows`);
  return state;
}

/** The logger at the level stored in the loop state (WARN when unset). */
export async function loopLogger(ctx: QueryCtx, state?: LoopState | null): Promise<Logger> {
  const row = state === undefined ? await readLoopState(ctx) : state;
  return createLogger(row?.logLevel);
}

/** The generation a tick job carries, or undefined for anything else. */
export function tickGeneration(job: TickJob): string | undefined {
  const arg: unknown = job.args[0];
  if (typeof arg !== "object" || arg === null || !("generation" in arg)) return undefined;
  return typeof arg.generation === "string" ? arg.generation : undefined;
}

const willRun = (job: TickJob) => job.state.kind === "pending" || job.state.kind === "inProgress";

/**
 * The tick the row names, if its job will run (pending, or running now) and
 * carries the row's generation. A tick runs only while it is this one.
 */
export async function liveTick(ctx: QueryCtx, state: LoopState | null): Promise<TickJob | null> {
  const next = state?.nextTick;
  if (next === undefined) return null;
  const job = await ctx.db.system.get("_scheduled_functions", next.jobId);
  return job !== null && willRun(job) && tickGeneration(job) === next.generation ? job : null;
}

/** With no state row: the newest scheduled job, if it is a tick that will run (the loop's tick). */
export async function orphanTick(ctx: QueryCtx): Promise<TickJob | null> {
  const newest = await ctx.db.system.query("_scheduled_functions").order("desc").first();
  return newest !== null && willRun(newest) && tickGeneration(newest) !== undefined ? newest : null;
}

/**
 * The state row. If it was deleted and an orphan tick will run, the row is
 * recreated naming it, so it stays the one tick; null when there is neither
 * (nothing to write until something is scheduled).
 */
export async function claimLoopState(ctx: MutationCtx, now: number): Promise<LoopState | null> {
  const state = await readLoopState(ctx);
  if (state !== null) return state;
  const orphan = await orphanTick(ctx);
  if (orphan === null) return null;
  const generation = tickGeneration(orphan);
  if (generation === undefined) return null;
  const nextTick = { generation, jobId: orphan._id, at: orphan.scheduledTime };
  const id = await ctx.db.insert("guardState", { kind: "maintenance", startedAt: now, nextTick });
  return ctx.db.get("guardState", id);
}

/** The fields `peek` returns: the row's tick time, all a wake-up's stale read needs. */
export function loopView(state: LoopState | null): number | null {
  return state?.nextTick?.at ?? null;
}

/**
 * Makes sure a tick runs no later than `dueAt`. Called by insert paths after
 * they create work. Without `dueAt` (work whose lateness costs only storage),
 * any live tick will do, since every tick schedules the next one for the
 * earliest due work; if none is live, one is scheduled soon.
 *
 * The common case costs one stale-snapshot read and adds nothing to the
 * caller's read set: when a tick is pending early enough, concurrent callers
 * share no document and never conflict, and a tick committing meanwhile does
 * not make them retry. Only when the schedule must change (idle, a later
 * tick) or the pending tick is imminent does it read the state for real. It
 * writes only to change the schedule: once per idle → scheduled transition,
 * earlier due time, or tick more than LOST_TICK_GRACE_MS late (cancelled in
 * the dashboard, failed, stuck); never per call.
 */
export async function ensureMaintenance(
  ctx: MutationCtx,
  now: number,
  dueAt?: number,
): Promise<void> {
  const needBy = dueAt ?? Infinity;
  const view = await ctx.runQuery(internal.maintenance.peek, {}, { useStaleSnapshot: true });
  if (staleViewCovers(view, now, needBy)) return;
  const state = await claimLoopState(ctx, now);
  const next = state?.nextTick;
  if (next !== undefined) {
    // Believed on this real read unless it is more than the grace late (a
    // tick committing meanwhile makes the caller retry); a tick that late did
    // not run (cancelled, failed, stuck) and is replaced.
    if (!isLate(next.at, now)) {
      if (liveTickCovers(next.at, now, needBy)) return;
    } else {
      const log = await loopLogger(ctx, state);
      log.warn(`the maintenance tick recorded for ${iso(next.at)} did not run; replacing it`);
    }
  }
  const at = max(dueAt ?? now, now + KICK_DELAY_MS);
  await scheduleTick(ctx, state, now, min(at, now + MAX_TICK_DELAY_MS));
}

/**
 * Replaces the row's tick (if any) by one at `at` (none for null) under a new
 * generation, so the replaced one exits if it still runs; cancels the replaced
 * job if it is still pending, unless it is `running` (the calling tick's own
 * generation). Recreates a deleted state row; returns the row's id (null when
 * there is no row and nothing to schedule).
 */
export async function scheduleTick(
  ctx: MutationCtx,
  state: LoopState | null,
  now: number,
  at: number | null,
  running?: string,
): Promise<Id<"guardState"> | null> {
  // The tick being replaced: the row's job and, if an edit lost track of it, the newest one.
  const replaced = [
    state?.nextTick && (await ctx.db.system.get("_scheduled_functions", state.nextTick.jobId)),
    await ctx.db.system.query("_scheduled_functions").order("desc").first(),
  ];
  const cancelled = new Set<string>();
  for (const job of replaced) {
    if (!job || job.state.kind !== "pending" || cancelled.has(job._id)) continue;
    const generation = tickGeneration(job);
    if (generation === undefined || generation === running) continue;
    await ctx.scheduler.cancel(job._id);
    cancelled.add(job._id);
  }
  let nextTick: LoopState["nextTick"];
  if (at !== null) {
    const generation = newGeneration();
    const jobId = await ctx.scheduler.runAt(at, internal.maintenance.tick, { generation });
    nextTick = { generation, jobId, at };
  }
  if (state !== null) {
    await ctx.db.patch("guardState", state._id, { nextTick });
    return state._id;
  }
  if (nextTick === undefined) return null;
  return ctx.db.insert("guardState", { kind: "maintenance", startedAt: now, nextTick });
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** Random, so a row recreated after a deletion can never reuse a live tick's generation. */
function newGeneration(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(8)));
}
