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
 * period, relative to the rate (1.00 = never above the rate). The retryAfter
 * column is the worst excess of a denied call's `retryAfter` over what the
 * exact window would answer given the same admissions, as a fraction of the
 * period.
 */
import { HOUR, MINUTE } from "convex-guard";
import { getConvexSize } from "convex/values";
import {
  MAX_ENTRIES,
  MAX_ENTRY_COUNT,
  MAX_LOG_BYTES,
} from "../src/component/rateLimits/windowCodec.js";
import { newInstance, setNow } from "./harness.js";
import { ours, peer, type Config, type Limiter } from "./limiters.js";
import {
  decisionErrors,
  exactReference,
  exactRetryAfter,
  makeTraces,
  maxInWindow,
} from "./traces.js";
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
  /** Worst (retryAfter - exact window's answer) over denied calls, / period. */
  retryExcess: number;
};
export type AccuracyRow = {
  trace: string;
  description: string;
  requests: number;
  rate: number;
  reference: { admitted: number; burst: number };
  results: AccuracyCell[];
};

export const RATE = 50;
export const PERIOD = MINUTE;

export function accuracyAlgos(t0: number, rate = RATE): AccuracyAlgo[] {
  const base = { rate, period: PERIOD };
  return [
    {
      label: "ours: sliding window (default)",
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

/** The quota row's label: the trace stretched 60x and judged per calendar hour. */
export const QUOTA_LABEL = "ours: quota (per hour; trace 60x slower, judged per calendar hour)";

/**
 * The quota kind on the same trace stretched to hours (a quota's shortest
 * period), with `limit` = the trace's rate per hour, judged by its own rule:
 * admit iff fewer than `limit` were admitted in this calendar hour (UTC).
 * Over/under are against that rule; burst is per rolling hour (a quota, like
 * a fixed window, lets up to 2x through across a boundary); the retryAfter
 * excess is over the time to the next hour.
 */
async function quotaCell(times: number[], rate: number, t0: number): Promise<AccuracyCell> {
  const stretched = times.map((t) => t0 + (t - t0) * 60);
  const limiter = ours({ l: { kind: "quota", limit: rate, per: "hour" } as unknown as Config });
  const { ok, retryAfter } = await replay(limiter, stretched);
  const used = new Map<number, number>();
  const ref = new Map<number, number>();
  let over = 0;
  let under = 0;
  let diff = 0;
  let excess = 0;
  stretched.forEach((t, i) => {
    const hour = Math.floor(t / HOUR);
    const u = used.get(hour) ?? 0;
    if (ok[i] && u >= rate) over++;
    if (!ok[i] && u < rate) under++;
    if (!ok[i]) excess = Math.max(excess, retryAfter[i]! - ((hour + 1) * HOUR - t));
    if (ok[i]) used.set(hour, u + 1);
    const r = ref.get(hour) ?? 0;
    if (r < rate !== ok[i]) diff++;
    if (r < rate) ref.set(hour, r + 1);
  });
  return {
    label: QUOTA_LABEL,
    admitted: ok.filter(Boolean).length,
    overPct: pct(over, times.length),
    underPct: pct(under, times.length),
    diffPct: pct(diff, times.length),
    burst: round(maxInWindow(stretched, ok, HOUR) / rate),
    retryExcess: round(excess / HOUR, 4),
  };
}

/**
 * The largest `{ value, ts, log }` the default sliding window writes: merging
 * keeps `log` within `MAX_LOG_BYTES` (a number costs 9 bytes whatever its
 * value), here with the largest counts and a fractional anchor.
 */
export function defaultStateBytes(): number {
  const worst = {
    value: MAX_ENTRIES * MAX_ENTRY_COUNT,
    ts: 1_767_225_600_000.123,
    log: new ArrayBuffer(MAX_LOG_BYTES),
  };
  return getConvexSize(worst);
}

async function replay(limiter: Limiter, times: number[]) {
  const t = newInstance();
  const ok: boolean[] = [];
  const retryAfter: number[] = [];
  for (const at of times) {
    setNow(at);
    const s = await t.mutation((ctx: any) => limiter.limit(ctx, "l", { key: "trace" }));
    ok.push(s.ok);
    retryAfter.push(s.ok ? 0 : (s.retryAfter ?? 0));
  }
  return { ok, retryAfter };
}

export async function accuracy(
  t0: number,
  periods: number,
  log: (s: string) => void,
): Promise<AccuracyRow[]> {
  const rows: AccuracyRow[] = [];
  for (const trace of makeTraces(t0, RATE, PERIOD, periods)) {
    const rate = trace.rate ?? RATE;
    const ref = exactReference(trace.times, rate, PERIOD);
    const results: AccuracyCell[] = [];
    for (const algo of accuracyAlgos(t0, rate)) {
      log(`  accuracy: ${trace.name} (${trace.times.length} requests), ${algo.label}`);
      let admittedFlags: boolean[];
      let retryAfter: number[];
      try {
        const limiter = algo.impl === "ours" ? ours({ l: algo.config }) : peer({ l: algo.config });
        ({ ok: admittedFlags, retryAfter } = await replay(limiter, trace.times));
      } catch (e) {
        log(`    failed: ${(e as Error).message}`);
        continue;
      }
      const { over, under } = decisionErrors(trace.times, admittedFlags, rate, PERIOD);
      const diff = admittedFlags.filter((a, i) => a !== ref[i]).length;
      const exactWait = exactRetryAfter(trace.times, admittedFlags, rate, PERIOD);
      let excess = 0;
      admittedFlags.forEach((a, i) => {
        if (!a) excess = Math.max(excess, retryAfter[i]! - exactWait[i]!);
      });
      results.push({
        label: algo.label,
        admitted: admittedFlags.filter(Boolean).length,
        overPct: pct(over, trace.times.length),
        underPct: pct(under, trace.times.length),
        diffPct: pct(diff, trace.times.length),
        burst: round(maxInWindow(trace.times, admittedFlags, PERIOD) / rate),
        retryExcess: round(excess / PERIOD, 4),
      });
    }
    log(`  accuracy: ${trace.name}, ours: quota (per hour)`);
    results.push(await quotaCell(trace.times, rate, t0));
    rows.push({
      trace: trace.name,
      description: trace.description,
      requests: trace.times.length,
      rate,
      reference: {
        admitted: ref.filter(Boolean).length,
        burst: round(maxInWindow(trace.times, ref, PERIOD) / rate),
      },
      results,
    });
  }
  return rows;
}
