import { v } from "convex/values";
import type { TokenBucketConfig } from "../model.js";
import { projectBucket } from "../projection.js";
import {
  capacityOption,
  configError,
  debtReserveLimit,
  rateAndPeriod,
  reserveAsDebt,
  tokens,
  valueTsCodec,
} from "./shared.js";
import type { Algorithm } from "./types.js";
import { min } from "../../lib/math.js";

/** Stored: `value` tokens at time `ts`. */
export const vTokenBucketState = v.object({ value: v.number(), ts: v.number() });

/**
 * Token bucket: `value` tokens at time `ts`, refilled continuously at
 * `rate` per `period` up to `capacity`.
 */
export const tokenBucket: Algorithm<TokenBucketConfig> = {
  id: "token bucket",
  options: ["rate", "period", "capacity", "start"],
  sizeOption: "capacity",
  wholeUnits: false,
  reportsStored: true,
  ...valueTsCodec("token bucket"),
  shape: rateAndPeriod,
  configure: (config, name, rate) => {
    // `start: null` is how the peer's configs say "no alignment".
    if (config.start !== undefined && config.start !== null) {
      throw configError(name, "start is not an option of a token bucket limit", "start");
    }
    return { capacity: capacityOption(config, name, rate), maxReserved: config.maxReserved };
  },
  reportedConfig: (config, filled) => ({ ...config, ...filled }),
  peerProjection: (existing, config, now, count) => {
    const max = config.capacity ?? config.rate;
    return projectBucket(
      existing ?? { value: max, ts: now },
      config.rate,
      config.period,
      max,
      now,
      count,
    );
  },
  initial: (s, _seed, now) => ({ value: s.capacity, ts: now }),
  advance: (s, state, _seed, t) => {
    if (t <= state.ts) return state;
    const refilled = state.value + ((t - state.ts) * s.rate) / s.period;
    return { value: min(s.capacity, refilled), ts: t };
  },
  ...tokens,
  // Full again once the refill covers what is missing.
  idleGuess: (s, state) => state.ts + ((s.capacity - state.value) * s.period) / s.rate,
  reserveLimit: debtReserveLimit,
  reserve: reserveAsDebt,
};
