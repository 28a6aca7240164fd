/**
 * The audit log's integrity rows: the tamper fuzzer's classes (replayed with
 * CI's fixed seed) and the window from an event's commit to its seal at
 * steady traffic, in simulated time, with the maintenance loop waking on
 * demand (no host cron).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AuditLog, SECOND } from "convex-guard";
import {
  advanceTimers,
  components,
  inComponent,
  newInstance,
  runAllTimers,
  type T,
} from "./harness.js";

export type FuzzCounts = {
  runs: number;
  seed: number;
  /** Caught by `verify` with an allowed reason. */
  verify: number;
  /** Caught only by `verify({ anchor })`. */
  anchor: number;
  /** Touched only events not sealed yet (the stated window). */
  window: number;
  /** Refused by the schema, or no change. */
  noop: number;
  /** Anything else: must be 0 (the fuzzer fails on the first). */
  other: number;
};

export type SealWindow = {
  events: number;
  eventsPerSecond: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
};

export type AuditIntegrity = { fuzz: FuzzCounts; window: SealWindow };

const FUZZ_SEED = 20261122; // a fixed seed, so the page's counts do not change with the commit

/** Runs test/audit/fuzz.test.ts (the same classifier CI runs) and reads its counts line. */
export function fuzzCounts(runs: number): FuzzCounts {
  const root = fileURLToPath(new URL("..", import.meta.url));
  let out: string;
  try {
    out = execFileSync(
      `${root}node_modules/.bin/vitest`,
      ["run", "test/audit/fuzz.test.ts", "--reporter=dot"],
      {
        cwd: root,
        env: {
          ...process.env,
          CI: "true",
          FC_SEED: String(FUZZ_SEED),
          AUDIT_FUZZ_RUNS: String(runs),
        },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`the tamper fuzzer failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
  // eslint-disable-next-line no-control-regex
  const plain = out.replace(/\u001b\[[0-9;]*m/g, "");
  const m = /audit tamper fuzzer: (\{[^}]*\})/.exec(plain);
  if (m === null) throw new Error(`no fuzzer counts in its output:\n${plain.slice(-2000)}`);
  const c = JSON.parse(m[1]!) as Record<string, number>;
  const counted = c.verify! + c.anchor! + c.window! + c.schema!;
  return {
    runs,
    seed: FUZZ_SEED,
    verify: c.verify!,
    anchor: c.anchor!,
    window: c.window!,
    noop: c.schema!,
    other: runs - counted,
  };
}

/** Commit time (ms) and seal time of every event sealed so far. */
async function sealedTimes(t: T): Promise<{ committed: number; sealed: number }[]> {
  return inComponent(t, "guard", async (ctx) => {
    const seals = await ctx.db.query("auditSeals").withIndex("by_n").collect();
    const out: { committed: number; sealed: number }[] = [];
    for (const s of seals) {
      if (s.toSeq < s.fromSeq) continue;
      const events = await ctx.db
        .query("auditEvents")
        .withIndex("by_seq", (q: any) => q.gte("seq", s.fromSeq).lte("seq", s.toSeq))
        .collect();
      for (const e of events) out.push({ committed: e.recordedAt, sealed: s.sealedAt });
    }
    return out;
  });
}

const quantile = (xs: number[], q: number) =>
  xs.length === 0 ? 0 : xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/**
 * `audit.log` at a steady rate for `seconds` of simulated time, the loop
 * running its ticks as they come due; the window of each event is its seal's
 * `sealedAt` minus its `recordedAt` (the mutation's clock, equal to its
 * commit time in simulated time).
 */
export async function sealWindow(seconds: number, perSecond: number): Promise<SealWindow> {
  const t = newInstance();
  const audit = new AuditLog(components.guard);
  const actor = { type: "user", id: "u" };
  for (let i = 0; i < seconds * perSecond; i++) {
    advanceTimers(SECOND / perSecond);
    await t.finishInProgressScheduledFunctions();
    await t.mutation((ctx: any) => audit.log(ctx, { action: "a", actor, outcome: "success" }));
  }
  // The last events are sealed by the ticks still pending, at the times they are due.
  await t.finishAllScheduledFunctions(runAllTimers);
  const times = await sealedTimes(t);
  const windows = times.map((x) => x.sealed - x.committed).sort((a, b) => a - b);
  return {
    events: windows.length,
    eventsPerSecond: perSecond,
    seconds,
    p50Ms: quantile(windows, 0.5),
    p99Ms: quantile(windows, 0.99),
    maxMs: windows.length === 0 ? 0 : windows[windows.length - 1]!,
  };
}

export async function auditIntegrity(
  opts: { fuzzRuns: number; windowSeconds: number },
  log: (s: string) => void,
): Promise<AuditIntegrity> {
  log(`  audit integrity: tamper fuzzer, ${opts.fuzzRuns} tamperings (seed ${FUZZ_SEED})`);
  const fuzz = fuzzCounts(opts.fuzzRuns);
  log(`  audit integrity: commit-to-seal window, ${opts.windowSeconds} s of steady traffic`);
  const window = await sealWindow(opts.windowSeconds, 5);
  return { fuzz, window };
}
