import { DAY, HOUR, MINUTE, SECOND } from "../lib/time.js";

/**
 * Pure scheduling rules of the maintenance loop (no `ctx`): when a wake-up
 * may skip writing, and when the next tick runs.
 */

/** Earliest a wake-up schedules a tick: a tick never lands inside the mutation that asked for it. */
export const KICK_DELAY_MS = 1 * SECOND;
/** Delay before the next tick when a pass left work behind. */
export const BUSY_TICK_MS = 1 * SECOND;
/**
 * A tick whose time passed more than this long ago is taken as lost (cancelled
 * from the dashboard, or its transaction crashed): the next wake-up or `runNow`
 * schedules a new one, and the lost one exits if it ever runs.
 */
export const LOST_TICK_GRACE_MS = 1 * MINUTE;
/**
 * A stale snapshot is trusted to show a pending tick only if that tick is at
 * least this far ahead: more than a mutation can run (1 s), so the tick starts
 * after the caller's commit and sees its work. Nearer ticks are re-read for real.
 */
export const TRUST_LEAD_MS = 2 * SECOND;
/**
 * Furthest ahead a tick is scheduled. Work due later (a year's retention) gets
 * a tick that finds nothing due and reschedules: JavaScript timers, which
 * convex-test and Node use, fire at once for delays over 2^31 ms (24.8 days).
 */
export const MAX_TICK_DELAY_MS = 20 * DAY;
/** Longest back-off after consecutive failing passes. */
export const MAX_FAILURE_BACKOFF_MS = 1 * HOUR;

/** The part of the loop state the rules look at. */
export type LoopView = { dueAt?: number; generation?: string; running?: boolean } | null;

/**
 * True if the loop, as a stale snapshot shows it, already covers work due at
 * `dueAt`: a tick is pending no later than `dueAt`, far enough ahead that
 * nothing can have run it since the snapshot.
 */
export function staleViewCovers(view: LoopView, now: number, dueAt: number): boolean {
  if (view?.dueAt === undefined || view.generation === undefined) return false;
  return view.dueAt <= dueAt && view.dueAt >= now + TRUST_LEAD_MS;
}

/**
 * The same on a real (dependency-tracked) read: a tick that is due or slightly
 * late still covers the work, since any tick that commits after this read
 * makes the caller retry. A running tick (this transaction's own) recomputes
 * the schedule when it ends.
 */
export function stateCovers(view: LoopView, now: number, dueAt: number): boolean {
  if (view?.running === true) return true;
  if (view?.dueAt === undefined || view.generation === undefined) return false;
  return view.dueAt <= dueAt && !isLost(view, now);
}

/** True if the pending tick should have run more than the grace ago. */
export function isLost(view: LoopView, now: number): boolean {
  return view?.dueAt !== undefined && view.dueAt < now - LOST_TICK_GRACE_MS;
}

/** Back-off before retrying after `failures` consecutive failing ticks (0: none). */
export function failureBackoff(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(BUSY_TICK_MS * 2 ** Math.min(failures, 30), MAX_FAILURE_BACKOFF_MS);
}

/**
 * When the next tick runs, or null for none (idle). `nextDue` is the earliest
 * due time of all pending work, `more` whether a pass stopped at its batch size.
 */
export function nextTickAt(
  now: number,
  nextDue: number | null,
  more: boolean,
  failures: number,
): number | null {
  let at = more ? now + BUSY_TICK_MS : nextDue;
  if (at === null) return null;
  at = Math.max(at, now + BUSY_TICK_MS, now + failureBackoff(failures));
  return Math.min(at, now + MAX_TICK_DELAY_MS);
}
