import { v } from "convex/values";
import type { SlidingWindowConfig } from "../model.js";
import { EPS, firstTime } from "../numeric.js";
import {
  MAX_ENTRY_COUNT,
  MAX_RESERVED_PERIODS,
  advanceWindow,
  creditWindow,
  emptyWindow,
  logWindow,
  windowCount,
  windowIsEmpty,
  windowDecisionTime,
  windowReservedAt,
} from "../windowLog.js";
import { configError, corruptState, finite, rateAndPeriod, remainingFrom } from "./shared.js";
import type { Algorithm, ShardConfig } from "./types.js";
import { floor, max } from "../../lib/math.js";

/** Stored: `value` admissions logged, `ts` the anchor, `log` the entries as bytes (../windowCodec.ts). */
export const vSlidingWindowState = v.object({
  value: v.number(),
  ts: v.number(),
  log: v.bytes(),
});

/** Whole admissions a shard holds. */
function wholeCapacity(s: ShardConfig): number {
  return floor(s.capacity + EPS);
}

/**
 * The default sliding window: a compressed admission log (../windowLog.ts).
 * Exact while a window holds at most 40 distinct admission times; above
 * that, at most rate + rate/100 in any period, and a denied call's
 * `retryAfter` at most period/16 later than the exact window's. Reservations
 * are logged at the time they may run, as in the exact log.
 */
export const slidingWindow: Algorithm<SlidingWindowConfig> = {
  id: "sliding window",
  options: ["rate", "period", "precision"],
  sizeOption: "rate",
  wholeUnits: true,
  reportsStored: false,
  encode: ({ value, ts, log }) => {
    if (!(log instanceof ArrayBuffer)) throw corruptState("sliding window", "log is not bytes");
    return { alg: "sliding window", value, ts, log };
  },
  decode: (stored) => {
    const what = "sliding window";
    if (stored.alg !== what) return null;
    if (!(stored.log instanceof ArrayBuffer)) throw corruptState(what, "log is not bytes");
    return {
      value: finite(what, "value", stored.value),
      ts: finite(what, "ts", stored.ts),
      log: stored.log,
    };
  },
  shape: rateAndPeriod,
  configure: (config, name, rate) => {
    const { precision } = config;
    if (precision !== undefined && precision !== "approximate") {
      throw configError(
        name,
        `precision must be "approximate" or "exact", got ${String(precision)}`,
        "precision",
      );
    }
    const shards = typeof config.shards === "number" && config.shards >= 1 ? config.shards : 1;
    if (rate / shards > MAX_ENTRY_COUNT) {
      throw configError(
        name,
        `the sliding window allows at most ${MAX_ENTRY_COUNT} per shard, got rate ${rate} over ${shards} shard(s); add shards or use a token bucket`,
        "rate",
      );
    }
    const most = MAX_RESERVED_PERIODS * rate;
    const maxReserved = config.maxReserved;
    if (typeof maxReserved === "number" && maxReserved > most) {
      throw configError(
        name,
        `the sliding window reserves at most ${MAX_RESERVED_PERIODS} periods ahead: maxReserved <= ${most}, got ${maxReserved}`,
        "maxReserved",
      );
    }
    return { capacity: rate, maxReserved: maxReserved ?? most };
  },
  initial: (s, _seed, now) => emptyWindow(s, now),
  advance: (s, state, _seed, t) => advanceWindow(s, state, t),
  remaining: (s, state, t) => wholeCapacity(s) - windowCount(s, state, t),
  capacity: wholeCapacity,
  take: (s, state, count, t) => logWindow(s, state, count, t),
  reserveLimit: wholeCapacity,
  // `configure` always sets maxReserved (default: MAX_RESERVED_PERIODS windows).
  reserve: (s, state, seed, t, count) => {
    if (
      count > wholeCapacity(s) ||
      windowReservedAt(s, state, t) + count > (s.maxReserved ?? Infinity) + EPS
    ) {
      return null;
    }
    const at = t + firstTime(t, (u) => remainingFrom(s, state, seed, u) + EPS >= count);
    return { state: logWindow(s, state, count, at), payAt: at };
  },
  idle: (_s, state) => windowIsEmpty(state),
  credit: (s, state, t, amount) => creditWindow(s, state, t, amount),
  // The window never goes back before what it has dropped (see windowDecisionTime).
  decisionTime: (s, states, now) =>
    max(now, ...states.map((st) => (st === null ? now : windowDecisionTime(s, st, now)))),
};
