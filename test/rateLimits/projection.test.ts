/**
 * The browser's projection (src/component/rateLimits/projection.ts) against
 * the algorithms the component decides with: states built by real decisions,
 * served as `getValue` serves them, projected to a later time. Exact for token
 * buckets, fixed windows and exact sliding windows; for the default sliding
 * window and a quota's debt, never more left and never an earlier retry than
 * the component's answer.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { normalizeConfig, shardConfig } from "../../src/component/rateLimits/config.js";
import { decide, projectRemaining, remaining } from "../../src/component/rateLimits/math.js";
import type { RateLimitConfig, RateLimitState } from "../../src/component/rateLimits/model.js";
import { project, type Served } from "../../src/component/rateLimits/projection.js";

const MINUTE = 60_000;
const T0 = Date.parse("2026-03-07T20:00:00Z");

/** Runs calls through the algorithm's decisions and serves the state as getValue does at `now`. */
function serve(
  config: RateLimitConfig,
  calls: { dt: number; count: number; reserve: boolean }[],
): Served {
  const c = normalizeConfig(config);
  const s = shardConfig(c);
  const alg = c.algorithm;
  let state: RateLimitState | null = null;
  let now = T0;
  for (const call of calls) {
    now += call.dt;
    // The component refuses a count no shard can hold (TOO_LARGE) before deciding.
    if (call.count > (call.reserve ? alg.reserveLimit(s) : alg.capacity(s))) continue;
    const d = decide(c, [{ shard: 0, state }], "", now, call.count, call.reserve);
    if (d.ok && d.writes[0]) state = d.writes[0].state;
  }
  return {
    config: { ...config, shards: c.shards },
    state,
    now,
    value: remaining(s, state, "", now),
    windowStart: alg.windowStart?.(s, state, "", now),
    ...alg.describe?.(s, state, "", now),
  };
}

const configs: fc.Arbitrary<RateLimitConfig> = fc.oneof(
  fc.record({
    kind: fc.constant("token bucket" as const),
    rate: fc.integer({ min: 1, max: 50 }),
    period: fc.constantFrom(1000, MINUTE),
    capacity: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
    shards: fc.constantFrom(1, 2),
  }),
  fc.record({
    kind: fc.constant("fixed window" as const),
    rate: fc.integer({ min: 1, max: 50 }),
    period: fc.constantFrom(1000, MINUTE),
    start: fc.constant(T0 - 7),
    shards: fc.constantFrom(1, 2),
  }),
  fc.record({
    kind: fc.constant("sliding window" as const),
    rate: fc.integer({ min: 1, max: 200 }),
    period: fc.constantFrom(1000, MINUTE),
    precision: fc.constantFrom("exact" as const, "approximate" as const),
    shards: fc.constantFrom(1, 2),
  }),
  fc.record({
    kind: fc.constant("quota" as const),
    limit: fc.integer({ min: 1, max: 20 }),
    per: fc.constantFrom("hour" as const, "day" as const),
    timeZone: fc.constantFrom("UTC", "America/New_York", "Pacific/Chatham"),
    maxReserved: fc.constant(40),
    shards: fc.constantFrom(1, 2),
  }),
);

/** One shard's size, in whole calls. */
const sizeOf = (c: RateLimitConfig) => {
  const whole = c.kind === "quota" ? c.limit : "capacity" in c ? (c.capacity ?? c.rate) : c.rate;
  return Math.floor(whole / (c.shards ?? 1));
};
const periodOf = (c: RateLimitConfig) => (c.kind === "quota" ? 3 * 3_600_000 : c.period);

describe("the browser's projection", () => {
  test("equals the algorithm where exact, and is never more generous where not", () => {
    fc.assert(
      fc.property(
        configs,
        fc.array(
          fc.record({
            dt: fc.integer({ min: 0, max: 20_000 }),
            count: fc.integer({ min: 1, max: 30 }),
            reserve: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        fc.double({ min: 0, max: 3, noNaN: true }),
        fc.integer({ min: 0, max: 60 }),
        (config, calls, later, wanted) => {
          const served = serve(config, calls);
          const at = Math.round(served.now + later * periodOf(config));
          const count = Math.min(wanted, sizeOf(config));
          const mine = project(served, at, count);
          const ref = projectRemaining(served.config, served.state, at, count);
          const exactKind =
            config.kind === "token bucket" ||
            config.kind === "fixed window" ||
            (config.kind === "sliding window" && config.precision === "exact");
          const resetsAt = served.resetsAt ?? -Infinity;
          // A quota is exact up to its next reset.
          const exact = exactKind || at < resetsAt;
          const what = JSON.stringify({ served, at, count, mine, ref });
          if (exact) {
            expect(mine.value, what).toBeCloseTo(ref.value - count, 6);
            expect(mine.retryAfter === undefined, what).toBe(ref.ok);
          } else {
            expect(mine.value, what).toBeLessThanOrEqual(ref.value - count + 1e-9);
            if (mine.retryAfter === undefined) expect(ref.ok, what).toBe(true);
          }
          if (!ref.ok && mine.retryAfter !== undefined && ref.retryAfter !== undefined) {
            // The algorithm answers in whole ms, the bucket's refill in fractions.
            if (exactKind || at + ref.retryAfter <= resetsAt) {
              expect(Math.abs(mine.retryAfter - ref.retryAfter), what).toBeLessThan(1);
            } else expect(mine.retryAfter, what).toBeGreaterThanOrEqual(ref.retryAfter - 1);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  test("a quota's debt beyond the next reset waits the longest periods (25-hour days)", () => {
    const config: RateLimitConfig = { kind: "quota", limit: 10, per: "day", maxReserved: 40 };
    const resetsAt = T0 + 4 * 3_600_000;
    const served: Served = {
      config,
      state: { value: 35, ts: T0 - 20 * 3_600_000 },
      value: -25,
      now: T0,
      used: 35,
      resetsAt,
    };
    // 35 used, 10 paid per period: a call of 10 fits in the 4th period from the reset.
    expect(project(served, T0, 10).retryAfter).toBe(resetsAt + 3 * 25 * 3_600_000 - T0);
    expect(project(served, resetsAt, 0).value).toBe(-15);
    expect(project(served, T0, 11).retryAfter).toBe(Infinity);
  });
});
