import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { vExactWindowState } from "../../src/component/rateLimits/algorithms/exactSlidingWindow.js";
import {
  fixedWindowStart,
  vFixedWindowState,
} from "../../src/component/rateLimits/algorithms/fixedWindow.js";
import { STATE_FIELDS, vStoredState } from "../../src/component/rateLimits/algorithms/index.js";
import { vQuotaState } from "../../src/component/rateLimits/algorithms/quota.js";
import { vSlidingWindowState } from "../../src/component/rateLimits/algorithms/slidingWindow.js";
import { vTokenBucketState } from "../../src/component/rateLimits/algorithms/tokenBucket.js";
import {
  admissibleCount,
  normalizeConfig,
  shardConfig,
} from "../../src/component/rateLimits/config.js";
import {
  advance,
  creditState,
  decide,
  idleAt,
  projectRemaining,
  remaining,
} from "../../src/component/rateLimits/math.js";
import {
  vRateLimitConfig,
  vRateLimitConfigArg,
  type RateLimitConfig,
  type RateLimitState,
} from "../../src/component/rateLimits/model.js";
import { firstTime } from "../../src/component/rateLimits/numeric.js";

const MIN = 60_000;
const T = 1_700_000_040_000; // 40 s into a whole minute

function one(
  config: RateLimitConfig,
  state: RateLimitState | null,
  now: number,
  count = 1,
  reserve = false,
) {
  return decide(normalizeConfig(config), [{ shard: 0, state }], "n\u0000k", now, count, reserve);
}

describe("stored state", () => {
  // A validator's JSON and optionality (`json` is left out of the public type).
  type Field = { json: unknown; isOptional: string };
  const fields = (x: { fields: object }) => x.fields as Record<string, Field>;
  const algorithms: [RateLimitConfig, { fields: object }][] = [
    [{ kind: "token bucket", rate: 5, period: MIN }, vTokenBucketState],
    [{ kind: "fixed window", rate: 5, period: MIN }, vFixedWindowState],
    [{ kind: "sliding window", rate: 5, period: MIN }, vSlidingWindowState],
    [{ kind: "sliding window", rate: 5, period: MIN, precision: "exact" }, vExactWindowState],
    [{ kind: "quota", limit: 5, per: "hour" }, vQuotaState],
  ];

  test("each algorithm writes `alg` (its id) and exactly the fields its validator declares", () => {
    for (const [config, validator] of algorithms) {
      const c = normalizeConfig(config);
      const d = decide(c, [{ shard: 0, state: null }], "n\u0000k", T, 1);
      if (!d.ok) throw new Error("the first call is admitted");
      const stored = c.algorithm.encode(d.writes[0]!.state);
      expect(stored.alg).toBe(c.algorithm.id);
      expect(Object.keys(stored).sort(), c.algorithm.id).toEqual(
        ["alg", ...Object.keys(fields(validator))].sort(),
      );
      expect(c.algorithm.decode(stored)).toEqual(d.writes[0]!.state);
    }
  });

  test("the stored form has every algorithm's fields, each with its validator; shared names agree", () => {
    const stored = fields(vStoredState);
    for (const [config, validator] of algorithms) {
      for (const [field, fieldValidator] of Object.entries(fields(validator))) {
        const what = `${normalizeConfig(config).algorithm.id}.${field}`;
        // The same type as the algorithm declares (a later algorithm's field of the
        // same name would replace an earlier one's in the spread).
        expect(stored[field]?.json, what).toEqual(fieldValidator.json);
        expect(stored[field]?.isOptional, what).toBe("optional");
      }
    }
    expect(stored.alg?.isOptional).toBe("required");
    expect([...STATE_FIELDS].sort()).toEqual(Object.keys(stored).sort());
  });
});

describe("normalizeConfig", () => {
  test("the argument validator takes every field of every kind, with every type the kind allows", () => {
    // What a validator accepts, as base types ("string", "float64", ...), literals by their type.
    type V = { kind: string; value?: unknown; members?: V[] };
    const bases = (x: V): string[] =>
      x.kind === "literal"
        ? [typeof x.value === "number" ? "float64" : typeof x.value]
        : x.kind === "union"
          ? (x.members ?? []).flatMap(bases)
          : [x.kind];
    expect(vRateLimitConfigArg.key.kind).toBe("string");
    const values = bases(vRateLimitConfigArg.value as V);
    for (const member of vRateLimitConfig.members) {
      for (const [field, validator] of Object.entries<V>(member.fields)) {
        expect(values, `${member.fields.kind.value}.${field}`).toEqual(
          expect.arrayContaining(bases(validator)),
        );
      }
    }
  });

  test("a config used in a call is checked once per value; nothing else is served its result", () => {
    const config = { kind: "token bucket", rate: 7, period: MIN } as const;
    const first = normalizeConfig({ ...config });
    expect(normalizeConfig({ ...config })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // Another value, another check.
    expect(normalizeConfig({ ...config, capacity: 8 }).capacity).toBe(8);
    // Values whose JSON would match a checked config are checked themselves.
    const bad = [
      { ...config, capacity: Number.NaN },
      { ...config, capacity: Number.POSITIVE_INFINITY },
      { ...config, extra: () => 1 },
      Object.assign(Object.create({ capacity: 1 }) as object, config),
    ];
    const served = (c: object) => {
      try {
        return normalizeConfig(c as never);
      } catch {
        return null;
      }
    };
    for (const c of bad) expect(served(c)).not.toBe(first);
    expect(() => normalizeConfig({ ...config, capacity: Number.NaN })).toThrow(/capacity/);
    expect(() => normalizeConfig({ ...config, extra: () => 1 } as never)).toThrow(/extra/);
  });

  test("applies defaults: capacity = rate, one shard, approximate", () => {
    const {
      algorithm,
      reported,
      given: _given,
      ...rest
    } = normalizeConfig({
      kind: "token bucket",
      rate: 5,
      period: MIN,
    });
    expect(reported(undefined)).toEqual({
      kind: "token bucket",
      rate: 5,
      period: MIN,
      capacity: 5,
      shards: 1,
    });
    expect({ algorithm: algorithm.id, ...rest }).toEqual({
      algorithm: "token bucket",
      rate: 5,
      period: MIN,
      capacity: 5,
      maxReserved: undefined,
      shards: 1,
      start: undefined,
      async: false,
      stats: false,
    });
    const sliding = { kind: "sliding window", rate: 5, period: MIN } as const;
    expect(normalizeConfig(sliding).algorithm.id).toBe("sliding window");
    expect(normalizeConfig({ ...sliding, precision: "exact" }).algorithm.id).toBe(
      "exact sliding window",
    );
  });

  test("a shard gets its share of rate, capacity and maxReserved", () => {
    const s = shardConfig(
      normalizeConfig({
        kind: "token bucket",
        rate: 40,
        period: MIN,
        capacity: 20,
        maxReserved: 8,
        shards: 4,
      }),
    );
    expect([s.rate, s.capacity, s.maxReserved]).toEqual([10, 5, 2]);
  });
});

describe("token bucket", () => {
  const c: RateLimitConfig = { kind: "token bucket", rate: 10, period: MIN, capacity: 4 };

  test("refills continuously up to capacity", () => {
    const s = shardConfig(normalizeConfig(c));
    expect(remaining(s, { value: 0, ts: T }, "", T + MIN / 10)).toBeCloseTo(1);
    expect(remaining(s, { value: 0, ts: T }, "", T + 10 * MIN)).toBe(4);
  });

  test("denies with the time until enough tokens refill", () => {
    expect(one(c, { value: 0.5, ts: T }, T, 2)).toEqual({ ok: false, retryAfter: 9000 });
  });

  test("reserve goes negative; retryAfter is when the debt is paid; maxReserved caps it", () => {
    const d = one(c, { value: 1, ts: T }, T, 3, true);
    expect(d.ok && d.retryAfter).toBe(12_000);
    expect(d.ok && d.writes[0]!.state.value).toBe(-2);
    expect(one({ ...c, maxReserved: 1 }, { value: 1, ts: T }, T, 3, true)).toEqual({
      ok: false,
      retryAfter: 6000,
    });
  });

  test("idle once full again", () => {
    const s = shardConfig(normalizeConfig(c));
    expect(idleAt(s, { value: 2, ts: T }, "", T)).toBe(T + 12_000);
  });
});

describe("fixed window", () => {
  const c: RateLimitConfig = { kind: "fixed window", rate: 3, period: MIN, capacity: 5, start: 0 };

  test("adds rate per elapsed window, up to capacity; retryAfter = next window with enough", () => {
    const s = shardConfig(normalizeConfig(c));
    const ws = T - 40_000;
    expect(advance(s, { value: 0, ts: ws }, "", T + MIN)).toEqual({ value: 3, ts: ws + MIN });
    expect(advance(s, { value: 0, ts: ws }, "", T + 5 * MIN)).toEqual({
      value: 5,
      ts: ws + 5 * MIN,
    });
    expect(one(c, { value: 0, ts: ws }, T, 4)).toEqual({ ok: false, retryAfter: 20_000 + MIN });
  });

  test("without start, each key gets its own stable offset in [0, period)", () => {
    const s = shardConfig(normalizeConfig({ kind: "fixed window", rate: 1, period: MIN }));
    const a = fixedWindowStart(s, "n\u0000alice", T);
    expect(fixedWindowStart(s, "n\u0000alice", T)).toBe(a);
    expect(a).toBeLessThanOrEqual(T);
    expect(T - a).toBeLessThan(MIN);
    const offsets = new Set(
      Array.from({ length: 20 }, (_, i) => fixedWindowStart(s, `n\u0000u${i}`, T) % MIN),
    );
    expect(offsets.size).toBeGreaterThan(15);
  });
});

describe("default sliding window", () => {
  const c: RateLimitConfig = { kind: "sliding window", rate: 3, period: MIN };

  test("a rolling period: three calls at T leave room again exactly at T + period", () => {
    let st: RateLimitState | null = null;
    for (let i = 0; i < 3; i++) {
      const d = one(c, st, T + i);
      expect(d.ok).toBe(true);
      st = d.ok ? d.writes[0]!.state : st;
    }
    // The case: the fourth waits until the first leaves the window, 60 s later.
    expect(one(c, st, T + 3)).toEqual({ ok: false, retryAfter: MIN - 3 });
    expect(one(c, st, T + MIN).ok).toBe(true);
  });

  test("a reservation is logged when the work may run", () => {
    const full = one({ ...c, rate: 2 }, null, T, 2);
    const st = full.ok ? full.writes[0]!.state : null;
    const d = one({ ...c, rate: 2 }, st, T + 10, 1, true);
    expect(d).toMatchObject({ ok: true, retryAfter: MIN - 10 });
  });

  test("idle once its last admission leaves the window", () => {
    const d = one(c, null, T);
    expect(d.ok && d.writes[0]!.idleAt).toBe(T + MIN);
  });
});

describe("exact sliding window", () => {
  const c: RateLimitConfig = { kind: "sliding window", rate: 3, period: MIN, precision: "exact" };

  test("admits while the last period holds fewer than rate; retryAfter = when the oldest needed leaves", () => {
    const log = [T - 50_000, 1, T - 10_000, 2];
    expect(one(c, { value: 3, ts: T - 10_000, log }, T)).toEqual({ ok: false, retryAfter: 10_000 });
    expect(one(c, { value: 3, ts: T - 10_000, log }, T, 3)).toEqual({
      ok: false,
      retryAfter: 50_000,
    });
  });

  test("a reservation is logged at the time the work may run", () => {
    const d = one(c, { value: 3, ts: T, log: [T, 3] }, T, 2, true);
    expect(d.ok && d.retryAfter).toBe(MIN);
    expect(d.ok && d.writes[0]!.state.log).toEqual([T, 3, T + MIN, 2]);
  });

  test("credit removes the most recent admissions", () => {
    const s = shardConfig(normalizeConfig(c));
    const r = creditState(s, { value: 3, ts: T, log: [T - 5, 1, T, 2] }, "", T, 2);
    expect(r).toEqual({ state: { value: 1, ts: T, log: [T - 5, 1] }, credited: 2 });
  });
});

describe("credit never raises above capacity", () => {
  test.each<RateLimitConfig>([
    { kind: "token bucket", rate: 5, period: MIN },
    { kind: "fixed window", rate: 5, period: MIN, start: 0 },
    { kind: "sliding window", rate: 5, period: MIN },
    { kind: "sliding window", rate: 5, period: MIN, precision: "exact" },
  ])("$kind $precision", (config) => {
    const n = normalizeConfig(config);
    const s = shardConfig(n);
    const d = decide(n, [{ shard: 0, state: null }], "", T, 3);
    const st = d.ok ? d.writes[0]!.state : null;
    const r = creditState(s, st!, "", T, 100);
    expect(r.credited).toBeCloseTo(3);
    expect(remaining(s, r.state, "", T)).toBeCloseTo(5);
  });
});

describe("admissibleCount", () => {
  test("messages say what would fit", () => {
    const sharded = normalizeConfig({ kind: "token bucket", rate: 100, period: MIN, shards: 10 });
    expect(() => admissibleCount(sharded, 30, false, "llm")).toThrow(
      /use at most 6 shards, or raise the capacity to 150 with 10 shards/,
    );
    expect(admissibleCount(sharded, 20, false)).toBe(20); // two shards of 10
    expect(admissibleCount(sharded, 30, true)).toBe(30); // reserving without maxReserved
  });

  test("messages name the option the kind has and suggest reserving only where it would help", () => {
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { data: { message: string } }).data.message;
      }
      return "";
    };
    // Sliding windows reserve at most one window: reserving cannot help.
    const sliding = normalizeConfig({ kind: "sliding window", rate: 10, period: MIN });
    expect(message(() => admissibleCount(sliding, 11, false))).toMatch(
      /Raise the rate to at least 11\.$/,
    );
    const fixed = normalizeConfig({ kind: "fixed window", rate: 10, period: MIN });
    expect(message(() => admissibleCount(fixed, 11, false))).toMatch(
      /Raise the capacity to at least 11, or pass reserve: true\.$/,
    );
    const exact = normalizeConfig({
      kind: "sliding window",
      rate: 5,
      period: MIN,
      precision: "exact",
    });
    expect(message(() => admissibleCount(exact, 6, false))).toMatch(
      /Raise the rate to at least 6\.$/,
    );
    const bucket = normalizeConfig({ kind: "token bucket", rate: 10, period: MIN, maxReserved: 2 });
    expect(message(() => admissibleCount(bucket, 13, false))).toMatch(
      /Raise the capacity to at least 13\.$/,
    );
    expect(message(() => admissibleCount(bucket, 13, true))).toMatch(
      /Raise the capacity to at least 13, or raise maxReserved to at least 3\.$/,
    );
  });

  test("an exact sharded log: the suggested rate fits whole admissions per shard", () => {
    const exact = normalizeConfig({
      kind: "sliding window",
      rate: 10,
      period: MIN,
      precision: "exact",
      shards: 4,
    });
    expect(() => admissibleCount(exact, 5, false)).toThrow(
      /use at most 3 shards, or raise the rate to 12 with 4 shards/,
    );
    expect(admissibleCount({ ...exact, rate: 12, capacity: 12 }, 5, false)).toBe(5);
  });

  test("a reservation lands on one shard: it fits capacity + maxReserved of one shard", () => {
    const c = normalizeConfig({
      kind: "token bucket",
      rate: 100,
      period: MIN,
      shards: 10,
      maxReserved: 200,
    });
    expect(admissibleCount(c, 30, true)).toBe(30); // 10 + 20 on one shard
    expect(() => admissibleCount(c, 31, true)).toThrow(/at most 30/);
    // An exact log reserves only what one window holds.
    const exact = normalizeConfig({
      kind: "sliding window",
      rate: 10,
      period: MIN,
      precision: "exact",
    });
    expect(() => admissibleCount(exact, 11, true)).toThrow(/at most 10/);
  });
});

describe("idleAt", () => {
  // The search idleAt would run without an algorithm's closed-form guess.
  function searched(s: ReturnType<typeof shardConfig>, state: RateLimitState, now: number) {
    const t0 = Math.max(now, state.ts);
    const idleBy = (t: number) =>
      s.algorithm.idle(s, s.algorithm.advance(s, state, "n\u0000k", t), t);
    return idleBy(t0) ? t0 : t0 + firstTime(t0, idleBy);
  }

  test("a token bucket's or fixed window's guess gives the instant the search finds", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<"token bucket" | "fixed window">("token bucket", "fixed window"),
        fc.integer({ min: 1, max: 1_000 }),
        fc.constantFrom(1, 7, 1_000, MIN, 3_600_000),
        fc.integer({ min: 0, max: 3 }),
        fc.double({ min: -2, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 10 * MIN }),
        (kind, rate, period, extra, fill, ago) => {
          const config = { kind, rate, period, capacity: rate + extra };
          const s = shardConfig(normalizeConfig(config));
          const state = { value: fill * s.capacity, ts: T - ago };
          expect(idleAt(s, state, "n\u0000k", T)).toBe(searched(s, state, T));
        },
      ),
    );
  });
});

describe("firstTime", () => {
  test("finds the earliest whole ms of a monotone predicate", () => {
    for (const target of [1, 2, 3, 1000, 123_457, 86_400_001]) {
      expect(firstTime(5, (t) => t - 5 >= target)).toBe(target);
    }
  });
});

describe("projectRemaining (what the React hook shows)", () => {
  test("projects a state forward and says when a count fits", () => {
    const c: RateLimitConfig = { kind: "token bucket", rate: 60, period: MIN };
    expect(projectRemaining(c, { value: 0, ts: T }, T, 1)).toEqual({
      value: 0,
      ok: false,
      retryAfter: 1000,
    });
    expect(projectRemaining(c, { value: 0, ts: T }, T + 2000, 1)).toEqual({ value: 2, ok: true });
    expect(projectRemaining(c, null, T, 1)).toEqual({ value: 60, ok: true });
  });
});
