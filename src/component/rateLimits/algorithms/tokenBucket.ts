import type { TokenBucketConfig } from "../model.js";
import { capacityOption, configError, debtReserveLimit, reserveAsDebt, tokens } from "./shared.js";
import type { Algorithm } from "./types.js";

/**
 * Token bucket: `value` tokens at time `ts`, refilled continuously at
 * `rate` per `period` up to `capacity`.
 */
export const tokenBucket: Algorithm = {
  id: "token bucket",
  kind: "token bucket",
  options: ["capacity", "start"],
  sizeOption: "capacity",
  wholeUnits: false,
  configure: (config, name, rate) => {
    // `start: null` is how the peer's configs say "no alignment".
    const { start } = config as TokenBucketConfig;
    if (start !== undefined && start !== null) {
      throw configError(name, "start is not an option of a token bucket limit", "start");
    }
    return {
      capacity: capacityOption(config as TokenBucketConfig, name, rate),
      maxReserved: config.maxReserved,
    };
  },
  initial: (s, _seed, now) => ({ value: s.capacity, ts: now }),
  advance: (s, state, _seed, t) => {
    if (t <= state.ts) return state;
    const refilled = state.value + ((t - state.ts) * s.rate) / s.period;
    return { value: Math.min(s.capacity, refilled), ts: t };
  },
  ...tokens,
  reserveLimit: debtReserveLimit,
  reserve: reserveAsDebt,
};
