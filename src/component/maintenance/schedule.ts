import { DAY, HOUR, MINUTE, SECOND } from "../lib/time.js";
import { max, min } from "../lib/math.js";

/**
 * Pure scheduling rules of the maintenance loop (no `ctx`): when a wake-up
 * may skip reading for real, and when the next tick runs.
 */

/** Earliest a wake-up schedules a tick: a tick never lands inside the mutation that asked for it. */
export const KICK_DELAY_MS = 1 * SECOND;
/** Delay before the next tick when a pass left work behind. */
export const BUSY_TICK_MS = 1 * SECOND;
/**
 * A stale snapshot is trusted to show a pending tick only if that tick is at
 * least this far ahead: more than a mutation can run (1 s), so the tick starts
 * after the caller's commit and sees its work. Nearer ticks are re-read for real.
 */
export const TRUST_LEAD_MS = 2 * SECOND;
/**
 * How late a recorded tick may be and still be counted on: a tick that is due
 * runs within moments (a running tick records its start as its time). One
 * later than this did not run (cancelled in the dashboard, failed, stuck in
 * the scheduler): the next wake-up or `runNow` replaces it.
 */
export const LOST_TICK_GRACE_MS = 1 * MINUTE;

/** True if a tick recorded for `at` is more than the grace late. */
export function isLate(at: number, now: number): boolean {
  return at < now - LOST_TICK_GRACE_MS;
}
/**
 * Furthest ahead a tick is scheduled. Work due later (a year's retention) gets
 * a tick that finds nothing due and reschedules: JavaScript timers, which
 * convex-test and Node use, fire at once for delays over 2^31 ms (24.8 days).
 */
export const MAX_TICK_DELAY_MS = 20 * DAY;
/** Longest back-off after consecutive failing passes. */
export const MAX_FAILURE_BACKOFF_MS = 1 * HOUR;

/**
 * True if the state row, as a stale snapshot shows it, already covers work
 * due at `dueAt`: it names a tick at `at` no later than `dueAt`, far enough
 * ahead that nothing can have run it since the snapshot. The row is only
 * believed here; every other decision reads the tick's job.
 */
export function staleViewCovers(at: number | null, now: number, dueAt: number): boolean {
  return at !== null && at <= dueAt && at >= now + TRUST_LEAD_MS;
}

/**
 * On a real (dependency-tracked) read: a live tick at `at` covers work due at
 * `dueAt`. A tick already due covers everything: it is running (this
 * transaction may be it) or starts after this commit, and if it commits
 * first, the caller retries and sees the new schedule.
 */
export function liveTickCovers(at: number, now: number, dueAt: number): boolean {
  return at <= max(dueAt, now);
}

/** Back-off before retrying after `failures` consecutive failing ticks (0: none). */
export function failureBackoff(failures: number): number {
  if (failures <= 0) return 0;
  return min(BUSY_TICK_MS * 2 ** min(failures, 30), MAX_FAILURE_BACKOFF_MS);
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
  at = max(at, now + BUSY_TICK_MS, now + failureBackoff(failures));
  return min(at, now + MAX_TICK_DELAY_MS);
}
