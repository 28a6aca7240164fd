import type { Infer } from "convex/values";
import type { MutationCtx } from "../_generated/server.js";
import { claimLoopStateDroppingStrays, liveTick, scheduleTick } from "./kick.js";
import { CAPABILITIES, capabilities, type Capability } from "./registry.js";
import { isLate, liveTickCovers, nextTickAt } from "./schedule.js";
import type { vTickOutcome } from "./tables.js";
import { min } from "../lib/math.js";

/** What one round of passes did. */
export type PassRound = {
  processed: Record<Capability, number>;
  more: boolean;
  failed: { capability: Capability; message: string }[];
};
export type TickOutcome = Infer<typeof vTickOutcome>;

export function emptyRound(): PassRound {
  const processed = Object.fromEntries(CAPABILITIES.map((c) => [c, 0])) as PassRound["processed"];
  return { processed, more: false, failed: [] };
}

export function errorMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 500);
}

/**
 * The earliest due time over all capabilities after a round. A capability whose
 * `nextDue` throws, or that reports work already due although its pass took
 * no more (a row its pass cannot handle), is added to `round.failed`, so the
 * loop backs off instead of spinning on it.
 */
export async function earliestDue(
  ctx: MutationCtx,
  now: number,
  round: PassRound,
): Promise<number | null> {
  let earliest: number | null = null;
  for (const capability of CAPABILITIES) {
    let due: number | null;
    try {
      due = await capabilities[capability].nextDue(ctx, now);
    } catch (e) {
      round.failed.push({ capability, message: `nextDue failed: ${errorMessage(e)}` });
      continue;
    }
    if (due === null) continue;
    const passFailed = round.failed.some((f) => f.capability === capability);
    if (due <= now && !round.more && !passFailed)
      round.failed.push({ capability, message: "work is due that its pass did not take" });
    earliest = earliest === null ? due : min(earliest, due);
  }
  return earliest;
}

/**
 * Ends a round: schedules the next tick for the earliest due time (none when
 * nothing is due) and records the outcome. In a tick, `running` is its
 * generation: the row names the tick itself, which has just run, so it is
 * replaced. `runNow` keeps a live tick that is early enough and otherwise
 * replaces whatever the row names (nothing, a cancelled or failed job, an
 * edited row), so after it the schedule is what `status` would report.
 */
export async function settle(
  ctx: MutationCtx,
  now: number,
  round: PassRound,
  running?: string,
): Promise<TickOutcome> {
  const nextDue = await earliestDue(ctx, now, round);
  const state = await claimLoopStateDroppingStrays(ctx, now);
  const failures = round.failed.length > 0 ? (state?.lastTick?.consecutiveFailures ?? 0) + 1 : 0;
  const at = nextTickAt(now, nextDue, round.more, failures);
  const lastTick = {
    at: now,
    processed: round.processed,
    failed: round.failed,
    consecutiveFailures: failures,
  };
  const live = running === undefined ? await liveTick(ctx, state) : null;
  if (
    state !== null &&
    live !== null &&
    at !== null &&
    !isLate(live.scheduledTime, now) &&
    liveTickCovers(live.scheduledTime, now, at)
  ) {
    // Kept; its time is its job's, whatever an edit wrote in the row.
    const next = state.nextTick;
    const fixed = next !== undefined && next.at !== live.scheduledTime;
    await ctx.db.patch("guardState", state._id, {
      lastTick,
      ...(fixed ? { nextTick: { ...next, at: live.scheduledTime } } : {}),
    });
    return lastTick;
  }
  const id = await scheduleTick(ctx, state, now, at, running);
  if (id !== null) await ctx.db.patch("guardState", id, { lastTick });
  return lastTick;
}
