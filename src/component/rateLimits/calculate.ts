/**
 * `calculateRateLimit`, the peer's pure projection of a stored value: an
 * adapter that asks the config's algorithm. Token buckets and fixed windows
 * answer with the peer's own math (same signature and results); sliding
 * windows and quotas project with their engine (pass `log` from `getValue`'s
 * `state` for an exact result).
 */
import { bind } from "./algorithms/index.js";
import { normalizeConfig, shardConfig } from "./config.js";
import { remaining } from "./math.js";
import type { RateLimitConfig, RateLimitState } from "./model.js";
import { EPS, firstTime } from "./numeric.js";
import type { Projection } from "./projection.js";

export type CalculatedRateLimit = Projection;

export function calculateRateLimit(
  existing: RateLimitState | null,
  config: RateLimitConfig,
  now: number = Date.now(),
  count: number = 0,
): CalculatedRateLimit {
  return (
    bind(config)?.peerProjection(existing, now, count) ?? byEngine(existing, config, now, count)
  );
}

/** Projects with the algorithm's engine on one shard (checks the config first). */
function byEngine(
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
