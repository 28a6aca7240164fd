import type { MutationCtx } from "../_generated/server.js";
import { loopView, readLoopState, scheduleTick } from "./kick.js";
import { CAPABILITIES, capabilities, type Capability } from "./registry.js";
import { nextTickAt, stateCovers } from "./schedule.js";
import type { Infer } from "convex/values";
import type { vTickOutcome } from "./tables.js";

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
    earliest = earliest === null ? due : Math.min(earliest, due);
  }
  return earliest;
}

/**
 * Ends a round: schedules the next tick for the earliest due time (or none)
 * and records the outcome. In a tick (`ownJob`), the tick's own job is the
 * one in the state and has just run, so it is simply replaced; `runNow`
 * keeps a pending tick that is early enough and only heals a missing or
 * lost one.
 */
export async function settle(
  ctx: MutationCtx,
  now: number,
  round: PassRound,
  ownJob: boolean,
): Promise<TickOutcome> {
  const nextDue = await earliestDue(ctx, now, round);
  const state = await readLoopState(ctx);
  const failures = round.failed.length > 0 ? (state?.lastTick?.consecutiveFailures ?? 0) + 1 : 0;
  const at = nextTickAt(now, nextDue, round.more, failures);
  const lastTick = {
    at: now,
    processed: round.processed,
    failed: round.failed,
    consecutiveFailures: failures,
  };
  if (state === null) {
    if (at !== null) await scheduleTick(ctx, null, now, at);
  } else if (ownJob) {
    const idle = { running: undefined, dueAt: undefined, jobId: undefined, generation: undefined };
    await ctx.db.patch("guardState", state._id, { ...idle, lastTick });
    if (at !== null) await scheduleTick(ctx, { ...state, jobId: undefined }, now, at);
    return lastTick;
  } else if (at !== null && !stateCovers(loopView(state), now, at)) {
    await scheduleTick(ctx, state, now, at);
  }
  const after = await readLoopState(ctx);
  if (after !== null) await ctx.db.patch("guardState", after._id, { lastTick });
  return lastTick;
}
