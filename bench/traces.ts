/**
 * Request traces for the accuracy section, and the exact reference: a
 * sliding-window log that admits a request iff fewer than `rate` requests were
 * admitted in the `period` before it. Everything is seeded, so every run
 * replays the same requests.
 */
import { rng } from "./stats.js";

export type Trace = {
  name: string;
  description: string;
  times: number[];
  /** The limit's rate for this trace (default: the section's rate). */
  rate?: number;
};

/** Rate of the low-rate trace: the "3 to 5 per minute" case. */
export const LOW_RATE = 4;
/** The high-rate trace's rate: well above the 40 admission times the default window keeps exactly. */
export const HIGH_RATE = 500;

/** Exact sliding-window log: admit at t iff admissions in (t - period, t] are fewer than rate. */
export function exactReference(times: number[], rate: number, period: number): boolean[] {
  const admitted: number[] = [];
  let head = 0; // admitted[head..] are within the window
  return times.map((t) => {
    while ((admitted[head] ?? Infinity) <= t - period) head++;
    if (admitted.length - head < rate) {
      admitted.push(t);
      return true;
    }
    return false;
  });
}

/** First index i with xs[i] > x (xs sorted). */
function upper(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] ?? Infinity) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
/** First index i with xs[i] >= x (xs sorted). */
function lower(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] ?? Infinity) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Over- and under-admission of an algorithm's decisions, judged by the exact
 * rule "at most `rate` admissions in any interval (t - period, t]":
 * - over: the fewest admitted requests that must be removed so that no
 *   interval holds more than `rate` (greedy in time order, which is optimal);
 * - under: denied requests that could have been admitted as well without any
 *   interval exceeding `rate` (added greedily in time order).
 * Unlike a request-by-request comparison with an independent run of the
 * reference, one early extra admission is not counted again in every later
 * decision it shifts.
 */
export function decisionErrors(times: number[], admitted: boolean[], rate: number, period: number) {
  const kept: number[] = [];
  let head = 0;
  let over = 0;
  times.forEach((t, i) => {
    if (!admitted[i]) return;
    while ((kept[head] ?? Infinity) <= t - period) head++;
    if (kept.length - head >= rate) over++;
    else kept.push(t);
  });
  // Adding t is allowed if every interval (x - period, x] that contains t, for x = t or
  // x = a kept admission in [t, t + period), holds fewer than `rate` admissions.
  const fits = (t: number) => {
    const ends = [t];
    for (let k = lower(kept, t); ; k++) {
      const x = kept[k];
      if (x === undefined || x >= t + period) break;
      ends.push(x);
    }
    return ends.every((x) => upper(kept, x) - upper(kept, x - period) < rate);
  };
  let under = 0;
  times.forEach((t, i) => {
    if (admitted[i] || !fits(t)) return;
    kept.splice(upper(kept, t), 0, t);
    under++;
  });
  return { over, under };
}

/**
 * What the exact window answers a denied call at `times[i]` (ms to wait for
 * one admission), given the admissions the algorithm itself made: 0 if the
 * exact rule would admit it now.
 */
export function exactRetryAfter(
  times: number[],
  admitted: boolean[],
  rate: number,
  period: number,
): number[] {
  const log: number[] = [];
  let head = 0;
  return times.map((t, i) => {
    while ((log[head] ?? Infinity) <= t - period) head++;
    const bound = log.length - head < rate ? undefined : log[log.length - rate];
    const wait = bound === undefined ? 0 : bound + period - t;
    if (admitted[i]) log.push(t);
    return wait;
  });
}

/** Most admissions in any interval (t - period, t]: the burst an algorithm lets through. */
export function maxInWindow(times: number[], admitted: boolean[], period: number): number {
  const a = times.filter((_, i) => admitted[i]);
  let best = 0;
  let head = 0;
  for (const [i, x] of a.entries()) {
    while ((a[head] ?? Infinity) <= x - period) head++;
    best = Math.max(best, i - head + 1);
  }
  return best;
}

function poisson(random: () => number, start: number, end: number, perMs: number): number[] {
  const out: number[] = [];
  let t = start;
  for (;;) {
    t += -Math.log(1 - random()) / perMs;
    if (t >= end) return out;
    out.push(Math.floor(t));
  }
}

/**
 * The traces, for a limit of `rate` per `period` whose fixed windows start at
 * `t0` (the adversary knows the boundaries: the worst case for fixed windows).
 */
export function makeTraces(t0: number, rate: number, period: number, periods: number): Trace[] {
  const end = t0 + periods * period;
  const r = rng(42);
  const perMs = rate / period;

  const steady = poisson(r, t0, end, 1.5 * perMs);

  const bursty: number[] = [];
  for (let k = 0; k < periods; k++) {
    const w = t0 + k * period;
    bursty.push(...poisson(r, w, w + period, 0.2 * perMs));
    const at = w + Math.floor(r() * (period - period / 12));
    bursty.push(...poisson(r, at, at + period / 12, (1.2 * rate) / (period / 12)));
  }
  bursty.sort((a, b) => a - b);

  // `rate` requests in the last 1/60 of each window and `rate` in the first 1/60 of the next.
  const edge: number[] = [];
  const slice = Math.floor(period / 60);
  for (let k = 1; k < periods; k++) {
    const b = t0 + k * period;
    for (let i = 0; i < rate; i++) edge.push(b - slice + Math.floor((i * slice) / rate));
    for (let i = 0; i < rate; i++) edge.push(b + Math.floor((i * slice) / rate));
  }

  // Drain the full capacity, then trickle at exactly the refill rate: a token
  // bucket admits capacity + rate in the first period.
  const drain: number[] = [];
  for (let k = 0; k < periods; k += 2) {
    const w = t0 + k * period;
    for (let i = 0; i < rate; i++) drain.push(w + i);
    for (let i = 1; i <= rate * 2; i++) drain.push(w + rate + Math.floor((i * period) / rate));
  }
  const drainSorted = [...new Set(drain)].sort((a, b) => a - b).filter((t) => t < end);

  // A person at a low limit: clusters of 2-6 calls (retries, double clicks) at random moments.
  const low: number[] = [];
  const lowPeriods = periods * 4;
  for (let k = 0; k < lowPeriods; k++) {
    let at = t0 + Math.floor(r() * lowPeriods * period);
    const n = 2 + Math.floor(r() * 5);
    for (let i = 0; i < n; i++) {
      low.push(at);
      at += Math.floor(r() * 5_000);
    }
  }
  low.sort((a, b) => a - b);

  // Many calls per period: Poisson at 1.5x, and a burst of ~1.2x the rate in 1/20 of every other period.
  const highPerMs = HIGH_RATE / period;
  const high = poisson(r, t0, end, 1.5 * highPerMs);
  for (let k = 0; k < periods; k += 2) {
    const at = t0 + k * period + Math.floor(r() * (period - period / 20));
    high.push(...poisson(r, at, at + period / 20, (1.2 * HIGH_RATE) / (period / 20)));
  }
  high.sort((a, b) => a - b);

  return [
    { name: "steady", description: "Poisson arrivals at 1.5x the rate", times: steady },
    {
      name: "bursty",
      description:
        "background at 0.2x the rate, plus one burst of ~1.2x rate requests in 1/12 of each period",
      times: bursty,
    },
    {
      name: "window edges",
      description:
        "adversarial: `rate` requests just before and `rate` just after each fixed-window boundary",
      times: edge,
    },
    {
      name: "drain+trickle",
      description:
        "adversarial: `rate` requests at once, then a trickle at exactly the refill rate",
      times: drainSorted,
    },
    {
      name: "low rate",
      description: `${LOW_RATE} per period; clusters of 2-6 calls a few seconds apart at random moments`,
      times: low,
      rate: LOW_RATE,
    },
    {
      name: "high rate",
      description: `${HIGH_RATE} per period; Poisson at 1.5x, plus a burst of ~1.2x the rate in 1/20 of every other period`,
      times: high,
      rate: HIGH_RATE,
    },
  ];
}
