/**
 * The maintenance loop's bench rows: scheduled executions per day on an idle
 * deployment (must be 0), ticks and wake-up writes per 1,000 calls at steady
 * traffic, and how many concurrent `audit.log` calls conflict on a wake-up
 * (read/write-set model, see contention.ts).
 */
import { AuditLog, Confirmations, RateLimiter, DAY, HOUR, MINUTE, SECOND } from "convex-guard";
import { internal } from "../src/component/_generated/api.js";
import { TRUST_LEAD_MS } from "../src/component/maintenance/schedule.js";
import { concurrentSets } from "./contention.js";
import {
  advanceTimers,
  components,
  inComponent,
  newInstance,
  runAllTimers,
  type T,
} from "./harness.js";
import { conflicts, record, type AccessSet } from "./recorder.js";

export type WakeRow = {
  scenario: string;
  n: number;
  rounds: number;
  /** Calls per round that conflict with an earlier call's commit (they retry once). */
  retriedPerRound: number;
  /** Calls per round that a concurrently committing tick would make retry. */
  retriedByTick: number | null;
  /** Calls per round that write the loop state. */
  stateWritesPerRound: number;
};

export type MaintenanceBench = {
  /** Scheduled executions in 24 hours on a deployment that has never been used. */
  unusedPerDay: number;
  /** The same after every capability was used and its work finished. */
  idlePerDay: number;
  steady: {
    calls: number;
    callsPerSecond: number;
    ticks: number;
    ticksPer1000: number;
    wakeWritesPer1000: number;
    /** Executions needed after the traffic stops until nothing is scheduled. */
    drainExecutions: number;
  };
  wake: WakeRow[];
};

const actor = { type: "user", id: "u" };
const SECRET = "bench-secret-0123456789-abcdefghij-KLMNOP";

function clients() {
  return {
    audit: new AuditLog(components.guard),
    limiter: new RateLimiter(components.guard, {
      send: { kind: "token bucket", rate: 100, period: MINUTE },
    }),
    codes: new Confirmations(components.guard, { secret: SECRET }),
  };
}

async function executions(t: T): Promise<number> {
  return inComponent(t, "guard", async (ctx) => {
    const jobs = await ctx.db.system.query("_scheduled_functions").collect();
    return jobs.filter((j: any) => j.state.kind !== "pending" && j.state.kind !== "canceled")
      .length;
  });
}

async function generation(t: T): Promise<string | undefined> {
  return inComponent(t, "guard", async (ctx) => {
    const s = await ctx.db.query("guardState").first();
    return s?.nextTick?.generation;
  });
}

async function pendingJob(t: T) {
  return inComponent(t, "guard", async (ctx) => {
    const jobs = await ctx.db.system.query("_scheduled_functions").collect();
    return jobs.find((j: any) => j.state.kind === "pending") ?? null;
  });
}

/** Lets a simulated day pass in one-hour steps, running whatever comes due. */
async function executionsOverOneDay(t: T): Promise<number> {
  const before = await executions(t);
  for (let h = 0; h < DAY / HOUR; h++) {
    advanceTimers(HOUR);
    await t.finishInProgressScheduledFunctions();
  }
  return (await executions(t)) - before;
}

async function steadyTraffic(calls: number, perSecond: number) {
  const t = newInstance();
  const { audit, limiter, codes } = clients();
  const before = await executions(t);
  let wakeWrites = 0;
  for (let i = 0; i < calls; i++) {
    advanceTimers(SECOND / perSecond);
    await t.finishInProgressScheduledFunctions();
    const g = await generation(t);
    switch (i % 4) {
      case 0:
        await t.mutation((ctx: any) => limiter.limit(ctx, "send", { key: `user${i % 50}` }));
        break;
      case 1:
        await t.mutation((ctx: any) => audit.log(ctx, { action: "a", actor, outcome: "success" }));
        break;
      case 2:
        await t.mutation((ctx: any) => codes.issue(ctx, { subject: `s${i % 25}`, action: "x" }));
        break;
      default:
        await t.mutation((ctx: any) => limiter.check(ctx, "send", { key: `user${i % 50}` }));
    }
    if ((await generation(t)) !== g) wakeWrites++;
  }
  const ticks = (await executions(t)) - before;
  const drainStart = await executions(t);
  await t.finishAllScheduledFunctions(runAllTimers);
  const drainExecutions = (await executions(t)) - drainStart;
  return {
    t,
    steady: {
      calls,
      callsPerSecond: perSecond,
      ticks,
      ticksPer1000: Math.round((ticks / calls) * 1000 * 10) / 10,
      wakeWritesPer1000: Math.round((wakeWrites / calls) * 1000 * 10) / 10,
      drainExecutions,
    },
  };
}

/** Records what the pending tick would read and write if it ran now, then rolls it back. */
async function tickAccess(t: T): Promise<AccessSet> {
  const job = await pendingJob(t);
  const r = await record(() =>
    inComponent(t, "guard", async (ctx) => {
      await ctx.runMutation(internal.maintenance.tick, job.args[0]);
      throw new Error("bench-rollback");
    }),
  );
  return r.access;
}

async function wakeRow(
  scenario: string,
  t: T,
  n: number,
  rounds: number,
  withTick: boolean,
): Promise<WakeRow> {
  const { audit } = clients();
  let retried = 0;
  let byTick = 0;
  let writes = 0;
  for (let r = 0; r < rounds; r++) {
    const sets = await concurrentSets(t, n, (ctx) =>
      audit.log(ctx, { action: "a", actor, outcome: "success" }),
    );
    const committed: AccessSet[] = [];
    for (const s of sets) {
      if (committed.some((c) => conflicts(c, s))) retried++;
      else committed.push(s);
      if ([...s.writes.values()].some((w) => w.table === "guardState")) writes++;
    }
    if (withTick) {
      const tick = await tickAccess(t);
      byTick += sets.filter((s) => conflicts(tick, s)).length;
    }
  }
  return {
    scenario,
    n,
    rounds,
    retriedPerRound: retried / rounds,
    retriedByTick: withTick ? byTick / rounds : null,
    stateWritesPerRound: writes / rounds,
  };
}

export async function maintenanceBench(
  opts: { steadyCalls: number; n: number; rounds: number },
  log: (s: string) => void,
): Promise<MaintenanceBench> {
  log("  maintenance: idle deployment");
  const unusedPerDay = await executionsOverOneDay(newInstance());
  log("  maintenance: steady traffic");
  const { t, steady } = await steadyTraffic(opts.steadyCalls, 10);
  const idlePerDay = await executionsOverOneDay(t);

  log("  maintenance: wake-up contention");
  const wake: WakeRow[] = [];
  const idle = newInstance();
  wake.push(await wakeRow("audit.log, loop idle (idle → busy)", idle, opts.n, opts.rounds, false));
  const busy = newInstance();
  const { audit } = clients();
  await busy.mutation((ctx: any) => audit.log(ctx, { action: "a", actor, outcome: "success" }));
  wake.push(await wakeRow("audit.log, tick pending", busy, opts.n, opts.rounds, true));
  const job = await pendingJob(busy);
  advanceTimers(job.scheduledTime - Date.now() - TRUST_LEAD_MS / 2);
  wake.push(
    await wakeRow(
      `audit.log, tick due in under ${TRUST_LEAD_MS / SECOND} s`,
      busy,
      opts.n,
      opts.rounds,
      true,
    ),
  );
  return { unusedPerDay, idlePerDay, steady, wake };
}
