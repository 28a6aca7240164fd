/**
 * What each rate-limit call costs, from convex-test's transaction metrics
 * (convex-test counts a patch as a read of the patched document too).
 * The README's cost promises (checked by `npm run bench`) rest on these numbers.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MINUTE, RateLimiter } from "convex-guard";
import { components, guardTest, measure, measureQuery, rw } from "../setup.js";

const limiter = new RateLimiter(components.guard, {
  sliding: { kind: "sliding window", rate: 2, period: MINUTE },
  exact: { kind: "sliding window", rate: 2, period: MINUTE, precision: "exact" },
  bucket: { kind: "token bucket", rate: 2, period: MINUTE },
  fixed: { kind: "fixed window", rate: 2, period: MINUTE },
  sharded: { kind: "token bucket", rate: 20, period: MINUTE, shards: 10 },
  wide: { kind: "token bucket", rate: 1000, period: MINUTE, applyUpdates: "asynchronously" },
});
type Name = keyof typeof limiter.limits;
const names: Name[] = ["sliding", "exact", "bucket", "fixed"];
const wide = { count: 1 } as const;

describe("cost per call (documents read / written)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
  });
  afterEach(() => vi.useRealTimers());

  test.each(names)(
    "%s: allowed on an existing key = 2 reads (read + patch), 1 write; denied = 1 read, 0 writes",
    async (name) => {
      const t = guardTest();
      await t.mutation(async (ctx) => limiter.limit(ctx, name, { key: "k" }));
      const allowed = await measure(t, (ctx) => limiter.limit(ctx, name, { key: "k" }));
      expect(allowed.result.ok).toBe(true);
      expect(rw(allowed.cost)).toEqual({ read: 2, written: 1 });
      const denied = await measure(t, (ctx) => limiter.limit(ctx, name, { key: "k" }));
      expect(denied.result.ok).toBe(false);
      expect(rw(denied.cost)).toEqual({ read: 1, written: 0 });
    },
  );

  test.each(names)("%s: check and getValue write nothing and read 1", async (name) => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, name, { key: "k" }));
    expect(
      rw((await measureQuery(t, (ctx) => limiter.check(ctx, name, { key: "k" }))).cost),
    ).toEqual({ read: 1, written: 0 });
    expect(
      rw((await measureQuery(t, (ctx) => limiter.getValue(ctx, name, { key: "k" }))).cost),
    ).toEqual({ read: 1, written: 0 });
  });

  test("sharded: a call that draws an empty shard, then a shard with no document, looks up no block for the second", async () => {
    const t = guardTest();
    // 10 shards of 2 tokens. Draw shard 3 twice to empty it, then shard 3 and shard 8.
    const random = vi.spyOn(Math, "random").mockReturnValue(0.35);
    for (let i = 0; i < 2; i++) {
      expect((await t.mutation((ctx) => limiter.limit(ctx, "sharded", { key: "k" }))).ok).toBe(
        true,
      );
    }
    random.mockReturnValueOnce(0.35).mockReturnValueOnce(0.5);
    const call = await measure(t, (ctx) => limiter.limit(ctx, "sharded", { key: "k" }));
    random.mockRestore();
    expect(call.result.ok).toBe(true);
    // Shard 3 (a document, empty: it also says the key is not blocked), shard 8
    // (no document: inserted), and the maintenance marker the insert reads.
    // No read of shard 0 for a block.
    expect(call.cost.databaseQueries).toBe(3);
    expect(rw(call.cost)).toEqual({ read: 2, written: 1 });
  });

  test("a new key: 1 write (the insert) plus the maintenance marker read; the very first insert also starts the loop", async () => {
    const t = guardTest();
    const first = await measure(t, (ctx) => limiter.limit(ctx, "sliding", { key: "a" }));
    // No state read (index miss), no marker yet: insert state + marker (+ one scheduled tick).
    expect(rw(first.cost)).toEqual({ read: 0, written: 2 });
    const later = await measure(t, (ctx) => limiter.limit(ctx, "sliding", { key: "b" }));
    // Index miss, marker read, insert.
    expect(rw(later.cost)).toEqual({ read: 1, written: 1 });
  });

  test("sharded (10 shards): one shard when it has room, at most two read otherwise", async () => {
    const t = guardTest();
    // Fill every shard once so all documents exist (200 random picks miss one of 10 with p < 1e-8).
    for (let i = 0; i < 200; i++)
      await t.mutation(async (ctx) => limiter.limit(ctx, "sharded", { count: 0 }));
    const roomy = await measure(t, (ctx) => limiter.limit(ctx, "sharded"));
    expect(rw(roomy.cost)).toEqual({ read: 2, written: 1 });
    // Drain: the calls that need a second shard read 2 (+ a patch each).
    let worst = { read: 0, written: 0 };
    for (let i = 0; i < 30; i++) {
      const m = rw((await measure(t, (ctx) => limiter.limit(ctx, "sharded", { count: 3 }))).cost);
      if (m.read > worst.read) worst = m;
    }
    expect(worst.read).toBeLessThanOrEqual(4); // 2 shard reads + 2 patches when combined
    expect(worst.written).toBeLessThanOrEqual(2);
  });

  test("limitAll of 2 = the sum of its limits; credit = 2 reads, 1 write; reset = 2 reads (read + delete) and 1 write per shard", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) =>
      limiter.limitAll(ctx, [
        { name: "sliding", key: "k" },
        { name: "bucket", key: "k" },
      ]),
    );
    const all = await measure(t, (ctx) =>
      limiter.limitAll(ctx, [
        { name: "sliding", key: "k" },
        { name: "bucket", key: "k" },
      ]),
    );
    expect(rw(all.cost)).toEqual({ read: 4, written: 2 });
    const credit = await measure(t, (ctx) => limiter.credit(ctx, "bucket", { key: "k", count: 1 }));
    expect(rw(credit.cost)).toEqual({ read: 2, written: 1 });
    const reset = await measure(t, (ctx) => limiter.reset(ctx, "bucket", { key: "k" }));
    expect(rw(reset.cost)).toEqual({ read: 2, written: 1 });
  });

  test.each(["limit", "limitAll"] as const)(
    "asynchronous %s: the same documents with 1, 10 or 100 calls unfolded before it",
    async (via) => {
      // The state document, the newest link and the rows after it (here: that
      // link's own row) through the stale snapshot, the maintenance loop's
      // state, and no row of its own transaction: whatever the fold lag.
      const t = guardTest();
      const reads: number[] = [];
      const call = (ctx: Parameters<typeof limiter.limit>[0]) =>
        via === "limit"
          ? limiter.limit(ctx, "wide", { key: "hot", ...wide })
          : limiter.limitAll(ctx, [{ name: "wide", key: "hot", ...wide }]);
      for (let unfolded = 1; unfolded <= 100; unfolded++) {
        await t.mutation((ctx) => call(ctx));
        if (![1, 10, 100].includes(unfolded)) continue;
        const { result, cost } = await measure(t, (ctx) => call(ctx));
        expect(result.ok).toBe(true);
        reads.push(rw(cost).read);
      }
      expect(reads).toEqual([4, 4, 4]);
    },
  );
});
