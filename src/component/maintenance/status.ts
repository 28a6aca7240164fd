import { v, type Infer } from "convex/values";
import type { QueryCtx } from "../_generated/server.js";
import { DEFAULT_LOG_LEVEL, vLogLevel } from "../lib/logging.js";
import { iso, liveTick, orphanTick, readLoopState } from "./kick.js";
import { CAPABILITIES, capabilities } from "./registry.js";
import { LOST_TICK_GRACE_MS, isLate } from "./schedule.js";
import { vTickOutcome } from "./tables.js";

const vBacklog = v.object({
  /** What is waiting, as a sentence ("sealing is 1,204 events behind"). */
  description: v.string(),
  count: v.number(),
  /** True when there are more than `count` (counting stops at a bound). */
  atLeast: v.boolean(),
});

export const vMaintenanceStatus = v.object({
  /**
   * "scheduled": one tick will run; "idle": none is scheduled; "lost": the
   * state names a tick that will not run (cancelled, failed, or an edited row).
   */
  state: v.union(v.literal("idle"), v.literal("scheduled"), v.literal("lost")),
  /** When the scheduled tick runs, if any. */
  nextTickAt: v.union(v.number(), v.null()),
  capabilities: v.array(
    v.object({
      name: v.string(),
      /** Earliest due time of its pending work, or null. */
      nextDue: v.union(v.number(), v.null()),
      backlog: v.array(vBacklog),
    }),
  ),
  lastTick: v.union(vTickOutcome, v.null()),
  logLevel: vLogLevel,
  /** Readable lines for an admin page. */
  summary: v.array(v.string()),
});
export type MaintenanceStatus = Infer<typeof vMaintenanceStatus>;

const fmt = (n: number) => n.toLocaleString("en-US");

/**
 * Builds `maintenance.status` from the same reads a wake-up makes (the row,
 * then the tick's job), so what it says is what the next insert or `runNow`
 * does. Every read is a bounded index range.
 */
export async function maintenanceStatus(ctx: QueryCtx, now: number): Promise<MaintenanceStatus> {
  const state = await readLoopState(ctx);
  const job = state === null ? await orphanTick(ctx) : await liveTick(ctx, state);
  // What runNow and a wake-up do: a tick more than the grace late is replaced.
  const live = job !== null && !isLate(job.scheduledTime, now) ? job : null;
  const recorded = state?.nextTick;
  const loop = live !== null ? "scheduled" : recorded !== undefined ? "lost" : "idle";
  const summary: string[] = [];
  const out: MaintenanceStatus["capabilities"] = [];
  for (const name of CAPABILITIES) {
    const capability = capabilities[name];
    const backlog = (await capability.backlog(ctx, now)).map((b) => ({
      description: b.template.replace("{n}", (b.atLeast ? "more than " : "") + fmt(b.count)),
      count: b.count,
      atLeast: b.atLeast,
    }));
    for (const b of backlog) if (b.count > 0) summary.push(`${name}: ${b.description}`);
    out.push({ name, nextDue: await capability.nextDue(ctx, now), backlog });
  }
  const lastTick = state?.lastTick ?? null;
  for (const f of lastTick?.failed ?? [])
    summary.push(`last pass failed: ${f.capability}: ${f.message}`);
  if (loop === "lost" && recorded !== undefined) {
    // A wake-up believes the row's time until the tick is LOST_TICK_GRACE_MS late.
    const checkedFrom = recorded.at + LOST_TICK_GRACE_MS;
    summary.push(
      `the tick recorded for ${iso(recorded.at)} has not run (cancelled, failed or over a minute late); ` +
        `runNow replaces it, and so does ` +
        (checkedFrom > now
          ? `the next insert with work due before ${iso(recorded.at)} or made after ${iso(checkedFrom)}`
          : "the next insert"),
    );
  }
  const due = out.map((c) => c.nextDue).filter((d): d is number => d !== null);
  if (loop === "idle" && due.length > 0)
    summary.push("work is pending but no tick is scheduled; the next insert or runNow starts one");
  if (summary.length === 0) summary.push(loop === "idle" ? "idle: nothing is due" : "up to date");
  return {
    state: loop,
    nextTickAt: live?.scheduledTime ?? null,
    capabilities: out,
    lastTick,
    logLevel: state?.logLevel ?? DEFAULT_LOG_LEVEL,
    summary,
  };
}
