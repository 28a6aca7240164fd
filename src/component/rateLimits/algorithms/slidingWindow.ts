import type { SlidingWindowConfig } from "../model.js";
import { configError, debtReserveLimit, reserveAsDebt } from "./shared.js";
import type { Algorithm, ShardConfig } from "./types.js";

function bucketStart(s: ShardConfig, t: number): number {
  return Math.floor(t / s.period) * s.period;
}

/** How far `t` is into the bucket that starts at `ts`, as a fraction in [0, 1]. */
function elapsed(s: ShardConfig, ts: number, t: number): number {
  return Math.min(Math.max((t - ts) / s.period, 0), 1);
}

/**
 * Approximate sliding window (the two-counter estimate Cloudflare and Upstash
 * use): `value` admitted in the bucket that starts at `ts` (buckets aligned to
 * multiples of `period`), `prev` in the bucket before; the estimate weighs
 * `prev` by the part of the window still covering it.
 */
export const slidingWindow: Algorithm = {
  id: "sliding window",
  kind: "sliding window",
  selects: (config) => (config as SlidingWindowConfig).precision !== "exact",
  options: ["precision"],
  sizeOption: "rate",
  wholeUnits: false,
  configure: (config, name, rate) => {
    const { precision } = config as SlidingWindowConfig;
    if (precision !== undefined && precision !== "approximate") {
      throw configError(
        name,
        `precision must be "approximate" or "exact", got ${String(precision)}`,
        "precision",
      );
    }
    return { capacity: rate, maxReserved: config.maxReserved };
  },
  initial: (s, _seed, now) => ({ value: 0, prev: 0, ts: bucketStart(s, now) }),
  advance: (s, state, _seed, t) => {
    const buckets = Math.floor((t - state.ts) / s.period);
    if (buckets <= 0) return state;
    // A bucket never holds more than `rate`: reserved overflow spills into the
    // next bucket, so a reservation is paid off at `rate` per period and the
    // estimate is continuous and non-increasing between calls.
    const current = state.value;
    return {
      value: Math.max(0, current - buckets * s.rate),
      prev: Math.min(Math.max(0, current - (buckets - 1) * s.rate), s.rate),
      ts: state.ts + buckets * s.period,
    };
  },
  remaining: (s, state, t) =>
    s.rate - ((state.prev ?? 0) * (1 - elapsed(s, state.ts, t)) + state.value),
  capacity: (s) => s.capacity,
  take: (_s, state, count) => (count === 0 ? state : { ...state, value: state.value + count }),
  reserveLimit: debtReserveLimit,
  reserve: reserveAsDebt,
  idle: (_s, state) => state.value === 0 && (state.prev ?? 0) === 0,
  credit: (s, state, t, amount) => {
    // Take from the current bucket (each unit frees 1), then from the
    // previous one (each unit frees its weight, 1 - elapsed fraction).
    const fromCurrent = Math.min(state.value, amount);
    const weight = 1 - elapsed(s, state.ts, t);
    const prev = state.prev ?? 0;
    const fromPrev = weight > 0 ? Math.min(prev, (amount - fromCurrent) / weight) : 0;
    return {
      state: { value: state.value - fromCurrent, prev: prev - fromPrev, ts: state.ts },
      credited: fromCurrent + fromPrev * weight,
    };
  },
};
