/**
 * Every bad input to the rate limiter: a ConvexError with a stable
 * `data.code`, and no state change. One assertion per case; each case runs
 * through the client (early, clear errors) and, where a host could bypass the
 * client, straight against the component (the trust boundary).
 */
import type { GenericDataModel, GenericMutationCtx } from "convex/server";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MINUTE, RateLimiter, type RateLimitConfig } from "convex-guard";
import { components, guardTest, runInGuard } from "../setup.js";

const ok: RateLimitConfig = { kind: "token bucket", rate: 10, period: MINUTE };
const limiter = new RateLimiter(components.guard, {
  bucket: ok,
  sharded: { kind: "token bucket", rate: 10, period: MINUTE, shards: 5 },
});

type T = ReturnType<typeof guardTest>;
type Ctx = Pick<GenericMutationCtx<GenericDataModel>, "runQuery" | "runMutation">;

async function snapshot(t: T) {
  return runInGuard(t, async (ctx) => ({
    limits: await ctx.db.query("rateLimits").collect(),
    state: await ctx.db.query("guardState").collect(),
  }));
}

/** Runs `fn` in a host mutation; returns the error's code, message, and whether state is unchanged. */
async function rejected(t: T, fn: (ctx: Ctx) => Promise<unknown>) {
  const before = await snapshot(t);
  const error = await t
    .mutation(async (ctx) => fn(ctx))
    .then(
      () => null,
      (e: { data?: { code?: string; message?: string }; message?: string }) => e,
    );
  const after = await snapshot(t);
  return {
    code: error?.data?.code,
    message: error?.data?.message ?? "",
    raw: error?.message ?? "",
    unchanged: JSON.stringify(after) === JSON.stringify(before),
  };
}

const limitDirect = (ctx: Ctx, args: Record<string, unknown>) =>
  ctx.runMutation(components.guard.rateLimits.limit, {
    name: "direct",
    config: ok,
    ...args,
  } as never);

describe("bad input is rejected with a code and changes nothing", () => {
  let t: T;
  beforeEach(async () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
    t = guardTest();
    // Existing state, so "nothing changed" is meaningful.
    await t.mutation(async (ctx) => limiter.limit(ctx, "bucket", { key: "k", count: 3 }));
  });
  afterEach(() => vi.useRealTimers());

  const fails = (code: string) => ({ code, unchanged: true });
  const shape = (r: { code?: string; unchanged: boolean }) => ({
    code: r.code,
    unchanged: r.unchanged,
  });

  describe("counts", () => {
    test.each([
      ["NaN", NaN],
      ["Infinity", Infinity],
      ["-Infinity", -Infinity],
      ["negative", -1],
      ["non-integer", 1.5],
    ])("client: %s count", async (_label, count) => {
      expect(
        shape(await rejected(t, (ctx) => limiter.limit(ctx, "bucket", { key: "k", count }))),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test.each([
      ["NaN", NaN],
      ["Infinity", Infinity],
      ["negative", -1],
      ["non-integer", 0.5],
    ])("component: %s count", async (_label, count) => {
      expect(shape(await rejected(t, (ctx) => limitDirect(ctx, { key: "k", count })))).toEqual(
        fails("INVALID_ARGUMENT"),
      );
    });

    test("count above capacity without reserve: TOO_LARGE, the message says what capacity fits it", async () => {
      const r = await rejected(t, (ctx) => limiter.limit(ctx, "bucket", { key: "k", count: 11 }));
      expect({ ...shape(r), hint: /capacity to at least 11/.test(r.message) }).toEqual({
        ...fails("TOO_LARGE"),
        hint: true,
      });
    });

    test("count above what two shards hold: TOO_LARGE, the message says how many shards would fit it", async () => {
      const r = await rejected(t, (ctx) => limiter.limit(ctx, "sharded", { key: "k", count: 5 }));
      expect({
        ...shape(r),
        hint: /use at most 4 shards.*capacity.* to 13 with 5 shards/.test(r.message),
      }).toEqual({
        ...fails("TOO_LARGE"),
        hint: true,
      });
    });

    test("component: count above capacity", async () => {
      expect(shape(await rejected(t, (ctx) => limitDirect(ctx, { count: 11 })))).toEqual(
        fails("TOO_LARGE"),
      );
    });

    test("reserve with maxReserved: count above capacity + maxReserved", async () => {
      const config: RateLimitConfig = {
        kind: "token bucket",
        rate: 10,
        period: MINUTE,
        maxReserved: 5,
      };
      expect(
        shape(
          await rejected(t, (ctx) => limiter.limit(ctx, "x", { config, count: 16, reserve: true })),
        ),
      ).toEqual(fails("TOO_LARGE"));
    });

    test("credit: negative count", async () => {
      expect(
        shape(await rejected(t, (ctx) => limiter.credit(ctx, "bucket", { key: "k", count: -5 }))),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test("component credit: NaN count", async () => {
      expect(
        shape(
          await rejected(t, (ctx) =>
            ctx.runMutation(components.guard.rateLimits.credit, {
              name: "bucket",
              key: "k",
              count: NaN,
              config: ok,
            }),
          ),
        ),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });
  });

  describe("configs", () => {
    const bad: [string, RateLimitConfig][] = [
      ["rate 0", { kind: "token bucket", rate: 0, period: MINUTE }],
      ["negative rate", { kind: "fixed window", rate: -1, period: MINUTE }],
      ["NaN rate", { kind: "sliding window", rate: NaN, period: MINUTE }],
      ["period 0", { kind: "token bucket", rate: 1, period: 0 }],
      ["negative period", { kind: "sliding window", rate: 1, period: -MINUTE }],
      ["infinite period", { kind: "fixed window", rate: 1, period: Infinity }],
      ["capacity 0", { kind: "token bucket", rate: 1, period: MINUTE, capacity: 0 }],
      ["negative maxReserved", { kind: "token bucket", rate: 1, period: MINUTE, maxReserved: -1 }],
      ["shards 0", { kind: "token bucket", rate: 10, period: MINUTE, shards: 0 }],
      ["shards 1.5", { kind: "token bucket", rate: 10, period: MINUTE, shards: 1.5 }],
      ["shards over 1024", { kind: "token bucket", rate: 10, period: MINUTE, shards: 2000 }],
      [
        "exact precision with rate > 1000",
        { kind: "sliding window", rate: 1001, period: MINUTE, precision: "exact" },
      ],
      [
        "exact precision with maxReserved > rate",
        { kind: "sliding window", rate: 10, period: MINUTE, precision: "exact", maxReserved: 11 },
      ],
      [
        "non-finite fixed-window start",
        { kind: "fixed window", rate: 1, period: MINUTE, start: NaN },
      ],
    ];

    test.each(bad)("client: %s", async (_label, config) => {
      expect(shape(await rejected(t, (ctx) => limiter.limit(ctx, "inline", { config })))).toEqual(
        fails("INVALID_CONFIG"),
      );
    });

    test.each(bad)("component: %s", async (_label, config) => {
      expect(shape(await rejected(t, (ctx) => limitDirect(ctx, { config })))).toEqual(
        fails("INVALID_CONFIG"),
      );
    });

    // Shapes the types forbid: the client and the component alike name the
    // field (INVALID_CONFIG), not an uncoded argument validator error.
    const untyped: [string, Record<string, unknown>][] = [
      ["unknown kind", { kind: "leaky bucket", rate: 1, period: MINUTE }],
      [
        "unknown precision",
        { kind: "sliding window", rate: 1, period: MINUTE, precision: "rough" },
      ],
      [
        "precision on a token bucket",
        { kind: "token bucket", rate: 1, period: MINUTE, precision: "exact" },
      ],
      [
        "capacity on a sliding window",
        { kind: "sliding window", rate: 1, period: MINUTE, capacity: 5 },
      ],
      ["start on a token bucket", { kind: "token bucket", rate: 1, period: MINUTE, start: 0 }],
    ];

    test.each(untyped)("component: %s", async (_label, config) => {
      expect(shape(await rejected(t, (ctx) => limitDirect(ctx, { config })))).toEqual(
        fails("INVALID_CONFIG"),
      );
    });

    test.each(untyped)("client: %s", async (_label, config) => {
      expect(
        shape(
          await rejected(t, (ctx) => limiter.limit(ctx, "inline", { config: config as never })),
        ),
      ).toEqual(fails("INVALID_CONFIG"));
    });

    test("the constructor rejects an empty limit name at once", () => {
      expect(() => new RateLimiter(components.guard, { "": ok })).toThrow(
        expect.objectContaining({ data: expect.objectContaining({ code: "INVALID_ARGUMENT" }) }),
      );
    });

    test("the constructor rejects a bad config at once", () => {
      expect(
        () =>
          new RateLimiter(components.guard, { bad: { kind: "token bucket", rate: 0, period: 1 } }),
      ).toThrow(
        expect.objectContaining({ data: expect.objectContaining({ code: "INVALID_CONFIG" }) }),
      );
    });
  });

  describe("names and keys", () => {
    test("unknown name without config", async () => {
      expect(
        shape(
          await rejected(t, (ctx) =>
            (limiter.limit as (ctx: Ctx, name: string) => Promise<unknown>)(ctx, "nope"),
          ),
        ),
      ).toEqual(fails("UNKNOWN_LIMIT"));
    });

    test("client: empty key", async () => {
      expect(shape(await rejected(t, (ctx) => limiter.limit(ctx, "bucket", { key: "" })))).toEqual(
        fails("INVALID_ARGUMENT"),
      );
    });

    test("client: key over 256 bytes", async () => {
      expect(
        shape(await rejected(t, (ctx) => limiter.limit(ctx, "bucket", { key: "é".repeat(129) }))),
      ).toEqual(fails("TOO_LARGE"));
    });

    test("component: empty key", async () => {
      expect(shape(await rejected(t, (ctx) => limitDirect(ctx, { key: "" })))).toEqual(
        fails("INVALID_ARGUMENT"),
      );
    });

    test("component: key over 256 bytes", async () => {
      expect(shape(await rejected(t, (ctx) => limitDirect(ctx, { key: "x".repeat(257) })))).toEqual(
        fails("TOO_LARGE"),
      );
    });

    test("component: empty name", async () => {
      expect(shape(await rejected(t, (ctx) => limitDirect(ctx, { name: "" })))).toEqual(
        fails("INVALID_ARGUMENT"),
      );
    });

    // "guard:" names are convex-guard's own (the confirmation codes' issue and
    // failure budgets): no host call may consume, reset or credit them.
    test("client: a reserved name in the constructor", () => {
      expect(() => new RateLimiter(components.guard, { "guard:codes:failure": ok })).toThrow(
        expect.objectContaining({ data: expect.objectContaining({ code: "INVALID_ARGUMENT" }) }),
      );
    });

    test("client: a reserved name with an inline config", async () => {
      expect(
        shape(await rejected(t, (ctx) => limiter.limit(ctx, "guard:codes:issue", { config: ok }))),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test("client: reset with an unknown name (no config) is refused, not a silent no-op", async () => {
      expect(
        shape(
          await rejected(t, (ctx) =>
            (limiter.reset as (ctx: Ctx, name: string) => Promise<unknown>)(ctx, "nope"),
          ),
        ),
      ).toEqual(fails("UNKNOWN_LIMIT"));
    });

    test("client: reset of a reserved name", async () => {
      expect(
        shape(
          await rejected(t, (ctx) =>
            (limiter.reset as (ctx: Ctx, name: string, o: object) => Promise<unknown>)(
              ctx,
              "guard:codes:failure",
              { key: "k" },
            ),
          ),
        ),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test("component: limit with a reserved name", async () => {
      expect(
        shape(await rejected(t, (ctx) => limitDirect(ctx, { name: "guard:codes:issue" }))),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test("component: limitAll with a reserved name", async () => {
      const requests = [{ name: "guard:codes:failure", key: "k", config: ok }];
      expect(
        shape(
          await rejected(t, (ctx) =>
            ctx.runMutation(components.guard.rateLimits.limitAll, { requests }),
          ),
        ),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test("component: reset of a reserved name", async () => {
      expect(
        shape(
          await rejected(t, (ctx) =>
            ctx.runMutation(components.guard.rateLimits.reset, {
              name: "guard:codes:failure",
              key: "k",
            }),
          ),
        ),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test("component: credit of a reserved name", async () => {
      const args = { name: "guard:codes:failure", key: "k", count: 1, config: ok };
      expect(
        shape(
          await rejected(t, (ctx) => ctx.runMutation(components.guard.rateLimits.credit, args)),
        ),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test("component: check of a reserved name", async () => {
      const r = await t.query(async (ctx) =>
        ctx
          .runQuery(components.guard.rateLimits.check, { name: "guard:codes:issue", config: ok })
          .catch((e) => e.data.code),
      );
      expect(r).toBe("INVALID_ARGUMENT");
    });

    test("reset: empty key", async () => {
      expect(
        shape(
          await rejected(t, (ctx) =>
            ctx.runMutation(components.guard.rateLimits.reset, { name: "bucket", key: "" }),
          ),
        ),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test("getValue: sampleShards out of range", async () => {
      const r = await t.query(async (ctx) =>
        limiter.getValue(ctx, "sharded", { sampleShards: 6 }).catch((e) => e.data.code),
      );
      expect(r).toBe("INVALID_ARGUMENT");
    });
  });

  describe("limitAll", () => {
    test("empty list", async () => {
      expect(shape(await rejected(t, (ctx) => limiter.limitAll(ctx, [])))).toEqual(
        fails("INVALID_ARGUMENT"),
      );
    });

    test("the same (name, key) twice", async () => {
      expect(
        shape(
          await rejected(t, (ctx) =>
            limiter.limitAll(ctx, [
              { name: "bucket", key: "k" },
              { name: "bucket", key: "k" },
            ]),
          ),
        ),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });

    test("more than 16 requests", async () => {
      const many = Array.from({ length: 17 }, (_, i) => ({
        name: "bucket" as const,
        key: `k${i}`,
      }));
      expect(shape(await rejected(t, (ctx) => limiter.limitAll(ctx, many)))).toEqual(
        fails("TOO_LARGE"),
      );
    });

    test("one bad request rejects all, consuming nothing", async () => {
      expect(
        shape(
          await rejected(t, (ctx) =>
            limiter.limitAll(ctx, [
              { name: "bucket", key: "k" },
              { name: "bucket", key: "j", count: -1 },
            ]),
          ),
        ),
      ).toEqual(fails("INVALID_ARGUMENT"));
    });
  });
});

describe("stored state that fails its algorithm's checks is reported as corrupt, never reinterpreted", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
  });
  afterEach(() => vi.useRealTimers());

  const corrupt = new RateLimiter(components.guard, {
    bucket: { kind: "token bucket", rate: 10, period: MINUTE },
    window: { kind: "sliding window", rate: 10, period: MINUTE },
    exact: { kind: "sliding window", rate: 10, period: MINUTE, precision: "exact" },
  });

  type Edit = (s: Record<string, unknown>) => Record<string, unknown>;
  test.each<[string, "bucket" | "window" | "exact", Edit]>([
    ["a NaN value", "bucket", (s) => ({ ...s, value: Number.NaN })],
    ["no value", "bucket", (s) => ({ ...s, value: undefined })],
    ["a log that does not decode", "window", (s) => ({ ...s, log: new Uint8Array([200]).buffer })],
    ["no log", "window", (s) => ({ ...s, log: undefined })],
    ["entries out of order", "exact", (s) => ({ ...s, entries: [5, 1, 2, 1] })],
    ["no entries", "exact", (s) => ({ ...s, entries: undefined })],
  ])("%s (%s): CORRUPT_STATE", async (_what, name, edit) => {
    const t = guardTest();
    await t.mutation((ctx) => corrupt.limit(ctx, name, { key: "k" }));
    await runInGuard(t, async (ctx) => {
      const doc = await ctx.db.query("rateLimits").first();
      // The state is its algorithm's fields, tagged `alg`, in the document: edit them.
      const { _id, _creationTime, ...fields } = doc!;
      await ctx.db.replace("rateLimits", _id, edit(fields) as never);
    });
    const r = await t
      .mutation((ctx) => corrupt.limit(ctx, name, { key: "k" }))
      .then(
        () => "no error",
        (e: { data?: { code?: string } }) => e.data?.code,
      );
    expect(r).toBe("CORRUPT_STATE");
  });
});
