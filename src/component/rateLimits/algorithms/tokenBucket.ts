import type { TokenBucketConfig } from "../model.js";
import { capacityOption, debtReserveLimit, reserveAsDebt, tokens } from "./shared.js";
import type { Algorithm } from "./types.js";

/**
 * Token bucket: `value` tokens at time `ts`, refilled continuously at
 * `rate` per `period` up to `capacity`.
 */
export const tokenBucket: Algorithm = {
  id: "token bucket",
  kind: "token bucket",
  options: ["capacity"],
  sizeOption: "capacity",
  wholeUnits: false,
  configure: (config, name, rate) => ({
    capacity: capacityOption(config as TokenBucketConfig, name, rate),
    maxReserved: config.maxReserved,
  }),
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
