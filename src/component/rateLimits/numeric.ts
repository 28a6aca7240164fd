import { ErrorCode, guardError } from "../lib/errors.js";
import { floor, round } from "../lib/math.js";

/** Float slack for comparisons of token counts (token buckets refill continuously). */
export const EPS = 1e-9;

/**
 * Smallest d >= 1 (whole ms) with ok(now + d), for `ok` false at `now` and
 * non-decreasing in time. Exponential then binary search: exact at ms
 * resolution for every algorithm, including combinations of shards.
 */
export function firstTime(now: number, ok: (t: number) => boolean): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; !ok(now + hi); i++) {
    if (i > 52) {
      throw guardError(
        ErrorCode.INVALID_CONFIG,
        "rate limit: the call would not succeed within 2^52 ms; the rate is too small for this count",
      );
    }
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = lo + floor((hi - lo) / 2);
    if (ok(now + mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

export function round2(x: number): number {
  return round(x * 100) / 100;
}
