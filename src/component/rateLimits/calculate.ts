/**
 * `calculateRateLimit`, the peer's pure projection of a stored value, with
 * the same signature and results for token buckets and fixed windows (the
 * math of ./projection.ts); sliding windows and quotas project with their own
 * algorithm (pass `log` from `getValue`'s `state` for an exact result).
 */
import { normalizeConfig, shardConfig } from "./config.js";
import { remaining } from "./math.js";
import type { RateLimitConfig, RateLimitState } from "./model.js";
import { EPS, firstTime } from "./numeric.js";
import { projectBucket, projectFixedWindow, type Projection } from "./projection.js";

export type CalculatedRateLimit = Projection;

export function calculateRateLimit(
  existing: { value: number; ts: number; prev?: number; log?: number[] | ArrayBuffer } | null,
  config: RateLimitConfig,
  now: number = Date.now(),
  count: number = 0,
): CalculatedRateLimit {
  if (config.kind !== "token bucket" && config.kind !== "fixed window") {
    return byAlgorithm(existing, config, now, count);
  }
  // As the peer: the whole limit's rate and capacity, whatever `shards` says.
  const max = config.capacity ?? config.rate;
  if (config.kind === "token bucket") {
    return projectBucket(
      existing ?? { value: max, ts: now },
      config.rate,
      config.period,
      max,
      now,
      count,
    );
  }
  const start = config.start ?? now - Math.floor(Math.random() * config.period);
  return projectFixedWindow(
    existing ?? { value: max, ts: start },
    config.rate,
    config.period,
    max,
    now,
    count,
  );
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
