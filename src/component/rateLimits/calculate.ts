/**
 * `calculateRateLimit`, the peer's pure projection of a stored value, with
 * the same signature and results for token buckets and fixed windows; sliding
 * windows project with their own algorithm (pass `prev`/`log` from
 * `getValue`'s `state` for an exact result).
 */
import { normalizeConfig, shardConfig } from "./config.js";
import { remaining } from "./math.js";
import type { RateLimitConfig, RateLimitState } from "./model.js";
import { EPS, firstTime } from "./numeric.js";

export type CalculatedRateLimit = {
  /** Tokens left at `now` after taking `count` (negative: not enough). */
  value: number;
  /** The state's time after projecting to `now`. */
  ts: number;
  /** ms from `now` until `count` fits, when it does not fit now. */
  retryAfter: number | undefined;
  /** Fixed window only: start of the window `ts` was projected from. */
  windowStart: number | undefined;
};

export function calculateRateLimit(
  existing: { value: number; ts: number; prev?: number; log?: number[] | ArrayBuffer } | null,
  config: RateLimitConfig,
  now: number = Date.now(),
  count: number = 0,
): CalculatedRateLimit {
  if (config.kind !== "token bucket" && config.kind !== "fixed window") {
    return byAlgorithm(existing, config, now, count);
  }
  const max = config.capacity ?? config.rate;
  const state = existing ?? {
    value: max,
    ts:
      config.kind === "fixed window"
        ? (config.start ?? now - Math.floor(Math.random() * config.period))
        : now,
  };
  if (config.kind === "token bucket") {
    const rate = config.rate / config.period;
    const value = Math.min(state.value + (now - state.ts) * rate, max) - count;
    return {
      value,
      ts: now,
      retryAfter: value < 0 ? -value / rate : undefined,
      windowStart: undefined,
    };
  }
  const windows = Math.floor((now - state.ts) / config.period);
  const value = Math.min(state.value + config.rate * windows, max) - count;
  const ts = state.ts + windows * config.period;
  const retryAfter =
    value < 0 ? ts + config.period * Math.ceil(-value / config.rate) - now : undefined;
  return { value, ts, retryAfter, windowStart: state.ts };
}

function byAlgorithm(
  existing: RateLimitState | null,
  config: RateLimitConfig,
  now: number,
  count: number,
): CalculatedRateLimit {
  const s = shardConfig(normalizeConfig(config));
  const state = existing && { ...existing };
  const value = remaining(s, state, "", now) - count;
  const ts = state?.ts ?? now;
  if (value + EPS >= 0) return { value, ts, retryAfter: undefined, windowStart: undefined };
  const retryAfter =
    count > s.algorithm.capacity(s) + EPS
      ? Infinity
      : firstTime(now, (t) => remaining(s, state, "", t) + EPS >= count);
  return { value, ts, retryAfter, windowStart: undefined };
}
