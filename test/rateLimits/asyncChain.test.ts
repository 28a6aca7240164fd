/**
 * Asynchronous limits start a decision from the newest chain link (the
 * pending row that records the state its call saw) instead of reading every
 * unfolded row. That must change what a call reads, never what it decides:
 * over random calls, clocks, folds and resets, `limit` (the chained path, on
 * its stale snapshot) answers exactly what `check` (which applies every
 * unfolded row to the folded state) answered just before it.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MINUTE, RateLimiter, type RateLimitConfig } from "convex-guard";
import { components, drainMaintenance, guardTest, measure, rw } from "../setup.js";

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);
const async = { applyUpdates: "asynchronously" } as const;
const limits = {
  bucket: { kind: "token bucket", rate: 6, period: MINUTE, capacity: 4, ...async },
  window: { kind: "sliding window", rate: 5, period: MINUTE, ...async },
  fixed: { kind: "fixed window", rate: 5, period: MINUTE, ...async },
  quota: { kind: "quota", limit: 8, per: "hour", ...async },
  wide: { kind: "token bucket", rate: 1000, period: MINUTE, ...async },
} satisfies Record<string, RateLimitConfig>;
type Name = keyof typeof limits;
const limiter = new RateLimiter(components.guard, limits);

describe("asynchronous limits: chained reads", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  test("random calls, folds and resets: limit decides exactly as check on every unfolded row", async () => {
    const op = fc.record({
      dt: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 2 * MINUTE })),
      name: fc.constantFrom<Name>("bucket", "window", "fixed", "quota"),
      key: fc.constantFrom("a", "b"),
      count: fc.integer({ min: 0, max: 3 }),
      then: fc.constantFrom("none", "none", "none", "fold", "reset"),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const t = guardTest();
        let now = T0;
        for (const o of ops) {
          now += o.dt;
          vi.setSystemTime(now);
          const args = { key: o.key, count: o.count };
          const expected = await t.query((ctx) => limiter.check(ctx, o.name, args));
          const got = await t.mutation((ctx) => limiter.limit(ctx, o.name, args));
          expect(got).toEqual(expected);
          if (o.then === "fold") await drainMaintenance(t);
          if (o.then === "reset")
            await t.mutation((ctx) => limiter.reset(ctx, o.name, { key: o.key }));
        }
      }),
      { numRuns: 40 },
    );
  });

  test("a call reads the same 4 documents with 1, 10 or 100 calls unfolded before it", async () => {
    // The state document, the newest link, the rows after it (here: that
    // link's own row) and the maintenance loop's state; before chaining, a
    // call read every unfolded row (102 documents with 100 unfolded).
    const t = guardTest();
    const reads: number[] = [];
    for (let unfolded = 1; unfolded <= 100; unfolded++) {
      await t.mutation((ctx) => limiter.limit(ctx, "wide", { key: "hot" }));
      if (![1, 10, 100].includes(unfolded)) continue;
      const { result, cost } = await measure(t, (ctx) =>
        limiter.limit(ctx, "wide", { key: "hot" }),
      );
      expect(result.ok).toBe(true);
      reads.push(rw(cost).read);
    }
    expect(reads).toEqual([4, 4, 4]);
  });
});
