/**
 * Rate-limit algorithms as pure functions of (config, state, now, count).
 * No `ctx`: the component reads state, calls these, and writes the result.
 *
 * CONTRACT (other modules rely on these names and shapes; the implementation
 * is owned by the rate-limit work):
 */
export type SlidingWindowConfig = {
  kind: "sliding window";
  rate: number;
  period: number;
  /** "approximate" (default): two-bucket weighted counter. "exact": admission log, rate <= 1000. */
  precision?: "approximate" | "exact";
  maxReserved?: number;
  shards?: number;
};
export type TokenBucketConfig = {
  kind: "token bucket";
  rate: number;
  period: number;
  capacity?: number;
  maxReserved?: number;
  shards?: number;
};
export type FixedWindowConfig = {
  kind: "fixed window";
  rate: number;
  period: number;
  capacity?: number;
  maxReserved?: number;
  shards?: number;
  /** Window alignment in ms since epoch; random per key by default. */
  start?: number;
};
export type RateLimitConfig = SlidingWindowConfig | TokenBucketConfig | FixedWindowConfig;

/** `retryAfter` is in ms from now: the earliest time the same call would succeed. */
export type RateLimitResult = { ok: true; retryAfter?: number } | { ok: false; retryAfter: number };
