/**
 * Section 3: accuracy. Each trace is replayed, request by request, through
 * each algorithm (a real `limit` call in convex-test, the clock set to the
 * request's time). Its admissions are judged by the exact rule "at most
 * `rate` in any period" (traces.ts, decisionErrors): admissions beyond the
 * rate are over-admission, denials the rule would have allowed are
 * under-admission; both as % of the trace's requests. We also report how many
 * decisions differ from an independent run of the exact reference
 * (differences there compound: one early extra admission shifts later ones).
 * The burst column is the most requests admitted in any interval of one
 * period, relative to the rate (1.00 = never above the rate).
 */
import { MINUTE } from "convex-guard";
import { newInstance, setNow } from "./harness.js";
import { ours, peer, type Config, type Limiter } from "./limiters.js";
import { decisionErrors, exactReference, makeTraces, maxInWindow } from "./traces.js";
import { pct, round } from "./stats.js";

export type AccuracyAlgo = { label: string; impl: "ours" | "peer"; config: Config };
export type AccuracyCell = {
  label: string;
  admitted: number;
  /** Admissions beyond the rate (see decisionErrors), % of requests. */
  overPct: number;
  /** Denials that the rate would have allowed (see decisionErrors), % of requests. */
  underPct: number;
  /** Decided differently from an independent run of the reference. */
  diffPct: number;
  burst: number;
};
export type AccuracyRow = {
  trace: string;
  description: string;
  requests: number;
  reference: { admitted: number; burst: number };
  results: AccuracyCell[];
};

export const RATE = 50;
export const PERIOD = MINUTE;

export function accuracyAlgos(t0: number): AccuracyAlgo[] {
  const base = { rate: RATE, period: PERIOD };
  return [
    {
      label: "ours: sliding window (approximate)",
      impl: "ours",
      config: { kind: "sliding window", ...base },
    },
    {
      label: "ours: sliding window (exact)",
      impl: "ours",
      config: { kind: "sliding window", precision: "exact", ...base },
    },
    {
      label: "ours: fixed window",
      impl: "ours",
      config: { kind: "fixed window", start: t0, ...base },
    },
    { label: "ours: token bucket", impl: "ours", config: { kind: "token bucket", ...base } },
    {
      label: "peer: fixed window",
      impl: "peer",
      config: { kind: "fixed window", start: t0, ...base },
    },
    { label: "peer: token bucket", impl: "peer", config: { kind: "token bucket", ...base } },
  ];
}

async function replay(limiter: Limiter, times: number[]): Promise<boolean[]> {
  const t = newInstance();
  const out: boolean[] = [];
  for (const at of times) {
    setNow(at);
    const s = await t.mutation((ctx: any) => limiter.limit(ctx, "l", { key: "trace" }));
    out.push(s.ok);
  }
  return out;
}

export async function accuracy(
  t0: number,
  periods: number,
  log: (s: string) => void,
): Promise<AccuracyRow[]> {
  const rows: AccuracyRow[] = [];
  for (const trace of makeTraces(t0, RATE, PERIOD, periods)) {
    const ref = exactReference(trace.times, RATE, PERIOD);
    const results: AccuracyCell[] = [];
    for (const algo of accuracyAlgos(t0)) {
      log(`  accuracy: ${trace.name} (${trace.times.length} requests), ${algo.label}`);
      let admittedFlags: boolean[];
      try {
        const limiter = algo.impl === "ours" ? ours({ l: algo.config }) : peer({ l: algo.config });
        admittedFlags = await replay(limiter, trace.times);
      } catch (e) {
        log(`    failed: ${(e as Error).message}`);
        continue;
      }
      const { over, under } = decisionErrors(trace.times, admittedFlags, RATE, PERIOD);
      const diff = admittedFlags.filter((a, i) => a !== ref[i]).length;
      results.push({
        label: algo.label,
        admitted: admittedFlags.filter(Boolean).length,
        overPct: pct(over, trace.times.length),
        underPct: pct(under, trace.times.length),
        diffPct: pct(diff, trace.times.length),
        burst: round(maxInWindow(trace.times, admittedFlags, PERIOD) / RATE),
      });
    }
    rows.push({
      trace: trace.name,
      description: trace.description,
      requests: trace.times.length,
      reference: {
        admitted: ref.filter(Boolean).length,
        burst: round(maxInWindow(trace.times, ref, PERIOD) / RATE),
      },
      results,
    });
  }
  return rows;
}
