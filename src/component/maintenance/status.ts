import { v, type Infer } from "convex/values";
import type { QueryCtx } from "../_generated/server.js";
import { readLoopState } from "./kick.js";
import { CAPABILITIES, capabilities } from "./registry.js";
import { LOST_TICK_GRACE_MS, isLost } from "./schedule.js";
import { vTickOutcome } from "./tables.js";

const vBacklog = v.object({
  /** What is waiting, as a sentence ("sealing is 1,204 events behind"). */
  description: v.string(),
  count: v.number(),
  /** True when there are more than `count` (counting stops at a bound). */
  atLeast: v.boolean(),
});

export const vMaintenanceStatus = v.object({
  /** "idle": nothing scheduled; "scheduled": one tick pending; "lost": its time passed long ago. */
  state: v.union(v.literal("idle"), v.literal("scheduled"), v.literal("lost")),
  /** When the pending tick runs, if any. */
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
  /** Readable lines for an admin page. */
  summary: v.array(v.string()),
});
export type MaintenanceStatus = Infer<typeof vMaintenanceStatus>;

const fmt = (n: number) => n.toLocaleString("en-US");

/** Builds `maintenance.status`: every read is a bounded index range. */
export async function maintenanceStatus(ctx: QueryCtx, now: number): Promise<MaintenanceStatus> {
  const state = await readLoopState(ctx);
  const view = state && { dueAt: state.dueAt, generation: state.generation };
  const scheduled = state?.dueAt !== undefined && state.generation !== undefined;
  const loop = !scheduled ? "idle" : isLost(view, now) ? "lost" : "scheduled";
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
  if (loop === "lost")
    summary.push(
      `the tick due at ${new Date(state!.dueAt!).toISOString()} did not run within ` +
        `${LOST_TICK_GRACE_MS / 1000} s; the next insert or runNow reschedules it`,
    );
  const due = out.map((c) => c.nextDue).filter((d): d is number => d !== null);
  if (loop === "idle" && due.length > 0)
    summary.push("work is pending but no tick is scheduled; the next insert or runNow starts one");
  if (summary.length === 0) summary.push(loop === "idle" ? "idle: nothing is due" : "up to date");
  return {
    state: loop,
    nextTickAt: scheduled ? state!.dueAt! : null,
    capabilities: out,
    lastTick,
    summary,
  };
}
