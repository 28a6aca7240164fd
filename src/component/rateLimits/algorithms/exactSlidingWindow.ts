import { v } from "convex/values";
import type { RateLimitState, SlidingWindowConfig } from "../model.js";
import { EPS, firstTime } from "../numeric.js";
import { configError, corruptState, finite, rateAndPeriod, remainingFrom } from "./shared.js";
import type { Algorithm, ShardConfig } from "./types.js";
import { floor, max } from "../../lib/math.js";

/** Largest `rate` for `precision: "exact"`: the log then holds at most 2 * 1000 entries. */
export const MAX_EXACT_RATE = 1000;

/**
 * Stored: `entries` = [t0, n0, t1, n1, ...] (the state's `log`; the default
 * window's `log` is bytes), `value` their sum, `ts` the latest call time.
 */
export const vExactWindowState = v.object({
  value: v.number(),
  ts: v.number(),
  entries: v.array(v.number()),
});

/** The log as [t0, n0, ...] (`decode` only hands this algorithm arrays). */
function pairs(state: RateLimitState): number[] {
  return Array.isArray(state.log) ? state.log : [];
}

/** A stored log holds (time, count) pairs, times in order, counts positive. */
function assertLog(log: number[]): number[] {
  const bad = (detail: string) => corruptState("exact sliding window", detail);
  if (log.length % 2 !== 0) throw bad("log has an odd length");
  for (let i = 0; i < log.length; i += 2) {
    const [t, n] = [log[i], log[i + 1]];
    if (t === undefined || n === undefined || !Number.isFinite(t) || !(n > 0))
      throw bad("log entry is not a time and a positive count");
    const before = i === 0 ? -Infinity : log[i - 2];
    if (before === undefined || t < before) throw bad("log is not in time order");
  }
  return log;
}

function sumLog(log: number[]): number {
  return log.reduce((sum, x, i) => (i % 2 === 1 ? sum + x : sum), 0);
}

/** Reservations at `t`: admissions logged after `t`. */
function reservedAt(state: RateLimitState, t: number): number {
  let sum = 0;
  let at = -Infinity;
  pairs(state).forEach((x, i) => {
    if (i % 2 === 0) at = x;
    else if (at > t) sum += x;
  });
  return sum;
}

/** Logs `count` admitted at `at` (later than the call time `t` for a reservation). */
function logAt(state: RateLimitState, count: number, t: number, at: number): RateLimitState {
  if (count === 0) return state;
  const log = [...pairs(state)];
  // Insert after the last entry logged at or before `at` (merging equal times).
  let i = log.length;
  let before = log[i - 2];
  while (before !== undefined && before > at) {
    i -= 2;
    before = log[i - 2];
  }
  const n = log[i - 1];
  if (before === at && n !== undefined) log[i - 1] = n + count;
  else log.splice(i, 0, at, count);
  return { value: state.value + count, ts: max(state.ts, t), log };
}

/** Whole admissions a shard holds. */
function wholeCapacity(s: ShardConfig): number {
  return floor(s.capacity + EPS);
}

/**
 * Exact sliding window (`precision: "exact"`): `log` = [t0, n0, t1, n1, ...]
 * admissions sorted by time (entries after `now` are reservations); `value` =
 * their sum, `ts` = the latest call time that wrote it. The log never goes
 * back in time: a call whose clock is behind `ts` (transactions commit out of
 * timestamp order) is decided as of `ts`.
 */
export const exactSlidingWindow: Algorithm<SlidingWindowConfig> = {
  id: "exact sliding window",
  options: ["rate", "period", "precision"],
  sizeOption: "rate",
  wholeUnits: true,
  reportsStored: false,
  encode: (state) => ({
    alg: "exact sliding window",
    value: state.value,
    ts: state.ts,
    entries: pairs(state),
  }),
  decode: (stored) => {
    const what = "exact sliding window";
    if (stored.alg !== what) return null;
    if (!Array.isArray(stored.entries)) throw corruptState(what, "entries is not a list");
    return {
      value: finite(what, "value", stored.value),
      ts: finite(what, "ts", stored.ts),
      log: assertLog(stored.entries),
    };
  },
  shape: rateAndPeriod,
  configure: (config, name, rate) => {
    if (rate > MAX_EXACT_RATE) {
      throw configError(
        name,
        `precision "exact" keeps one entry per admission and allows rate <= ${MAX_EXACT_RATE}, got ${rate}; use the approximate sliding window`,
        "rate",
      );
    }
    const maxReserved = config.maxReserved;
    if (typeof maxReserved === "number" && maxReserved > rate) {
      throw configError(
        name,
        `precision "exact" allows maxReserved <= rate (${rate}), got ${maxReserved}`,
        "maxReserved",
      );
    }
    if (config.applyUpdates === "asynchronously") {
      throw configError(
        name,
        'precision "exact" needs applyUpdates "transactionally": an admission log is decided on the current log, not a stale one',
        "applyUpdates",
      );
    }
    // A log reserves at most one window's worth, so its size stays bounded.
    return { capacity: rate, maxReserved: maxReserved ?? rate };
  },
  initial: (_s, _seed, now) => ({ value: 0, ts: now, log: [] }),
  advance: (s, state, _seed, t) => {
    // A clock that steps back never un-prunes entries: it counts as `ts`.
    const horizon = max(t, state.ts) - s.period;
    const log = pairs(state);
    let i = 0;
    let at = log[0];
    while (at !== undefined && at <= horizon) {
      i += 2;
      at = log[i];
    }
    if (i === 0) return t <= state.ts ? state : { ...state, ts: t };
    const kept = log.slice(i);
    return { value: sumLog(kept), ts: max(state.ts, t), log: kept };
  },
  remaining: (s, state) => wholeCapacity(s) - sumLog(pairs(state)),
  capacity: wholeCapacity,
  take: (_s, state, count, t) => logAt(state, count, t, t),
  reserveLimit: wholeCapacity,
  // `configure` always sets maxReserved (default: rate), so the log stays bounded.
  reserve: (s, state, seed, t, count) => {
    // The work runs at the earliest time x whose window has room, and is logged at x.
    if (
      count > wholeCapacity(s) ||
      reservedAt(state, t) + count > (s.maxReserved ?? Infinity) + EPS
    ) {
      return null;
    }
    const at = t + firstTime(t, (u) => remainingFrom(s, state, seed, u) + EPS >= count);
    return { state: logAt(state, count, t, at), payAt: at };
  },
  idle: (_s, state) => pairs(state).length === 0,
  credit: (_s, state, t, amount) => {
    // Remove the most recent admissions (reservations first).
    const log = [...pairs(state)];
    let left = amount;
    for (let n = log.at(-1); left > 0 && n !== undefined; n = log.at(-1)) {
      if (n <= left) {
        left -= n;
        log.length -= 2;
      } else {
        log[log.length - 1] = n - left;
        left = 0;
      }
    }
    return {
      state: { value: sumLog(log), ts: max(state.ts, t), log },
      credited: amount - left,
    };
  },
  decisionTime: (_s, states, now) => max(now, ...states.map((st) => st?.ts ?? now)),
};
