/**
 * Property tests: the pure rate-limit algorithms against a reference model,
 * an exact log of admissions, over random sequences of (time step, key,
 * count) and random clocks.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  admissibleCount,
  normalizeConfig,
  shardConfig,
  type NormalizedConfig,
} from "../../src/component/rateLimits/config.js";
import { SLACK } from "../../src/component/rateLimits/windowLog.js";
import { decide, type Decision, type ShardRead } from "../../src/component/rateLimits/math.js";
import type { RateLimitConfig, RateLimitState } from "../../src/component/rateLimits/model.js";

type Op = { dt: number; key: number; count: number; r1: number; r2: number; reserve: boolean };
type Admission = { t: number; n: number };

/**
 * One call, exactly as the component makes it: read a random shard, read a
 * second only if asked, write what the decision says. `sweep` first deletes
 * states whose idleAt has passed (what the maintenance pass does).
 */
function call(c: NormalizedConfig, k: KeyState, seed: string, now: number, op: Op, sweep: boolean) {
  if (sweep) {
    for (const [shard, at] of k.idle) {
      if (at < now) {
        k.store.delete(shard);
        k.idle.delete(shard);
      }
    }
  }
  const n = c.shards;
  const a = n === 1 ? 0 : op.r1 % n;
  const reads: ShardRead[] = [{ shard: a, state: k.store.get(a) ?? null }];
  let d = decide(c, reads, seed, now, op.count, op.reserve);
  if (!d.ok && d.needSecondShard) {
    const b = (a + 1 + (op.r2 % (n - 1))) % n;
    reads.push({ shard: b, state: k.store.get(b) ?? null });
    d = decide(c, reads, seed, now, op.count, op.reserve);
  }
  if (!d.ok && d.needSecondShard) throw new Error("asked for a third shard");
  if (d.ok) {
    for (const w of d.writes) {
      expect(w.idleAt).toBeGreaterThanOrEqual(now);
      k.store.set(w.shard, w.state);
      k.idle.set(w.shard, w.idleAt);
    }
  }
  return { d: d as Final, reads };
}

type Final = Exclude<Decision, { needSecondShard: true }>;
type KeyState = { store: Map<number, RateLimitState>; idle: Map<number, number>; log: Admission[] };
type Step = { log: Admission[]; now: number; op: Op; d: Final; reads: ShardRead[]; seed: string };

/** Sum of admissions with time in (t - period, t]. */
function windowSum(log: Admission[], t: number, period: number): number {
  let s = 0;
  for (const a of log) if (a.t > t - period && a.t <= t) s += a.n;
  return s;
}

const opArb = (maxDt: number, maxCount: number, keys: number, reserve = false) =>
  fc.record({
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: maxDt })),
    key: fc.integer({ min: 0, max: keys - 1 }),
    count: fc.integer({ min: 0, max: maxCount }),
    r1: fc.nat(),
    r2: fc.nat(),
    reserve: reserve ? fc.boolean() : fc.constant(false),
  });

/** Random clocks: any start between 1970 and 2033, steps of 0 (same ms) or more. */
const clockArb = fc.integer({ min: 0, max: 2_000_000_000_000 });

/**
 * Runs ops; `each` sees each call with its key's admission log before the
 * call. Admissions are logged at the time the work runs (now + retryAfter for
 * a reservation). Returns the decisions, for comparing runs.
 */
function run(
  c: NormalizedConfig,
  start: number,
  ops: Op[],
  each?: (s: Step) => void,
  sweep = false,
): Final[] {
  const keys = new Map<number, KeyState>();
  const out: Final[] = [];
  let now = start;
  for (const op of ops) {
    now += op.dt;
    let k = keys.get(op.key);
    if (!k) keys.set(op.key, (k = { store: new Map(), idle: new Map(), log: [] }));
    const seed = `lim\u0000key${op.key}`;
    const { d, reads } = call(c, k, seed, now, op, sweep);
    each?.({ log: k.log, now, op, d, reads, seed });
    if (d.ok && op.count > 0)
      k.log.push({ t: now + (op.reserve ? (d.retryAfter ?? 0) : 0), n: op.count });
    out.push(d);
  }
  return out;
}

/** A denial's retryAfter is the earliest whole ms: denied 1 ms before, admitted at it (same shards). */
function expectExactRetry(c: NormalizedConfig, s: Step) {
  if (s.d.ok) return;
  const at = (t: number) => decide(c, s.reads, s.seed, t, s.op.count, s.op.reserve).ok;
  expect(at(s.now + s.d.retryAfter)).toBe(true);
  if (s.d.retryAfter > 1) expect(at(s.now + s.d.retryAfter - 1)).toBe(false);
}

/** The kinds with a rate per period (quotas have their own test: calendar.test.ts). */
type RateConfig = Exclude<RateLimitConfig, { kind: "quota" }>;
const kinds: RateConfig["kind"][] = ["sliding window", "token bucket", "fixed window"];

/** Any algorithm, precision and shard count. */
const configArb = fc
  .record({
    kind: fc.constantFrom(...kinds),
    exact: fc.boolean(),
    rate: fc.integer({ min: 1, max: 40 }),
    period: fc.integer({ min: 5, max: 400 }),
    shards: fc.integer({ min: 1, max: 8 }),
  })
  .map(({ kind, exact, rate, period, shards }): RateConfig =>
    kind === "sliding window"
      ? { kind, rate, period, shards, precision: exact ? "exact" : "approximate" }
      : { kind, rate, period, shards },
  );

describe("exact sliding window", () => {
  test("matches the exact-log model: same decisions, same retryAfter", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 5, max: 400 }),
        clockArb,
        fc.array(opArb(800, 12, 3), { maxLength: 80 }),
        (rate, period, start, rawOps) => {
          const c = normalizeConfig({ kind: "sliding window", rate, period, precision: "exact" });
          const ops = rawOps.map((o) => ({ ...o, count: Math.min(o.count, rate) }));
          run(c, start, ops, ({ log, now, op, d }) => {
            expect(d.ok).toBe(windowSum(log, now, period) + op.count <= rate);
            if (!d.ok) {
              let wait = 1;
              while (windowSum(log, now + wait, period) + op.count > rate) wait++;
              expect(d.retryAfter).toBe(wait);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  test("with shards and reservations, no interval of length period ever holds more than rate", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 5, max: 400 }),
        fc.integer({ min: 1, max: 6 }),
        clockArb,
        fc.array(opArb(600, 10, 1, true), { maxLength: 80 }),
        (rate, period, shards, start, rawOps) => {
          const c = normalizeConfig({
            kind: "sliding window",
            rate,
            period,
            precision: "exact",
            shards,
          });
          const perShard = Math.floor(rate / shards);
          fc.pre(perShard >= 1);
          const ops = rawOps.map((o) => ({ ...o, count: Math.min(o.count, perShard) }));
          let log: Admission[] = [];
          run(c, start, ops, (s) => {
            expectExactRetry(c, s);
            log = s.log;
          });
          for (const a of log) expect(windowSum(log, a.t, period)).toBeLessThanOrEqual(rate);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("clocks that step backwards (concurrent transactions commit out of timestamp order)", () => {
  test("every algorithm keeps its bound; a call behind the latest one counts as made at its decision time", () => {
    fc.assert(
      fc.property(
        configArb,
        clockArb,
        fc.array(fc.tuple(opArb(300, 40, 1), fc.integer({ min: -250, max: 0 })), { maxLength: 80 }),
        (config, start, steps) => {
          // Unsharded: each shard of a sharded limit is such a limit with rate / N,
          // and keeps its own latest time.
          const c = normalizeConfig({ ...config, shards: 1 });
          const perCall = c.rate;
          const k: KeyState = { store: new Map(), idle: new Map(), log: [] };
          let base = start;
          let latest = -Infinity;
          for (const [o, lag] of steps) {
            base += o.dt;
            const op = { ...o, count: Math.min(o.count, perCall) };
            // Where the algorithm says it decides (the exact log: the latest
            // call; the default window: its own clock, or anchor + period if
            // that is later); otherwise the latest call time.
            const state = [k.store.get(0) ?? null];
            const decidedAt = c.algorithm.decisionTime?.(shardConfig(c), state, base + lag);
            const { d } = call(c, k, "s", base + lag, op, false);
            if (!d.ok) continue;
            latest = Math.max(latest, base + lag);
            if (op.count > 0) k.log.push({ t: decidedAt ?? latest, n: op.count });
          }
          expectKindBound(c, k.log);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("default sliding window (compressed admission log)", () => {
  test("while a window holds at most 20 admissions it is the exact log: same decisions, same retryAfter", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 5, max: 400 }),
        clockArb,
        fc.array(opArb(800, 20, 3), { maxLength: 80 }),
        (rate, period, start, rawOps) => {
          const c = normalizeConfig({ kind: "sliding window", rate, period });
          const ops = rawOps.map((o) => ({ ...o, count: Math.min(o.count, rate) }));
          run(c, start, ops, ({ log, now, op, d }) => {
            expect(d.ok).toBe(windowSum(log, now, period) + op.count <= rate);
            if (!d.ok) {
              let wait = 1;
              while (windowSum(log, now + wait, period) + op.count > rate) wait++;
              expect(d.retryAfter).toBe(wait);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  test("at any rate, with shards and reservations, no period ever holds more than rate + slack", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 5, max: 400 }),
        fc.integer({ min: 1, max: 4 }),
        clockArb,
        fc.array(opArb(40, 30, 1, true), { maxLength: 150 }),
        (rate, period, shards, start, rawOps) => {
          const c = normalizeConfig({ kind: "sliding window", rate, period, shards });
          const perShard = Math.floor(rate / shards);
          fc.pre(perShard >= 1);
          const ops = rawOps.map((o) => ({ ...o, count: Math.min(o.count, perShard) }));
          let log: Admission[] = [];
          run(c, start, ops, (s) => {
            expectExactRetry(c, s);
            log = s.log;
          });
          expectKindBound(c, log);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("token bucket", () => {
  test("matches a continuous-refill model and never exceeds capacity + rate * elapsed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 5, max: 400 }),
        fc.integer({ min: 1, max: 30 }),
        clockArb,
        fc.array(opArb(300, 30, 1), { maxLength: 80 }),
        (rate, period, capacity, start, rawOps) => {
          const c = normalizeConfig({ kind: "token bucket", rate, period, capacity });
          const ops = rawOps.map((o) => ({ ...o, count: Math.min(o.count, capacity) }));
          let tokens = capacity;
          let last = start;
          let log: Admission[] = [];
          run(c, start, ops, (s) => {
            tokens = Math.min(capacity, tokens + ((s.now - last) * rate) / period);
            last = s.now;
            expect(s.d.ok).toBe(tokens + 1e-9 >= s.op.count);
            if (s.d.ok) tokens -= s.op.count;
            expectExactRetry(c, s);
            log = s.log;
          });
          expectRateBound(log, capacity, rate, period);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** Each algorithm's guaranteed bound (no reservations), for the whole limit. */
function expectKindBound(c: NormalizedConfig, log: Admission[]) {
  const id = c.algorithm.id;
  if (id === "token bucket") expectRateBound(log, c.capacity, c.rate, c.period);
  else if (id === "sliding window" || id === "exact sliding window") {
    // The exact log: never more than rate in any period; the default: within
    // its slack (rate / 100 per shard).
    const slack =
      c.algorithm.id === "sliding window"
        ? c.shards * Math.floor(shardConfig(c).capacity * SLACK)
        : 0;
    for (const a of log) expect(windowSum(log, a.t, c.period)).toBeLessThanOrEqual(c.rate + slack);
  } else {
    // Fixed windows: < 2 * rate in any period.
    for (const a of log) expect(windowSum(log, a.t, c.period)).toBeLessThan(2 * c.rate + 1e-9);
  }
}

/** Over any [a, b], admissions <= capacity + rate * (b - a) / period. */
function expectRateBound(log: Admission[], capacity: number, rate: number, period: number) {
  for (let i = 0; i < log.length; i++) {
    let sum = 0;
    for (let j = i; j < log.length; j++) {
      sum += log[j]!.n;
      expect(sum).toBeLessThanOrEqual(capacity + (rate * (log[j]!.t - log[i]!.t)) / period + 1e-6);
    }
  }
}

describe("fixed window", () => {
  test("each window admits at most capacity, and n consecutive windows at most capacity + (n - 1) * rate", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 5, max: 400 }),
        fc.integer({ min: 1, max: 30 }),
        fc.option(clockArb, { nil: undefined }),
        clockArb,
        fc.array(opArb(300, 30, 1), { maxLength: 80 }),
        (rate, period, capacity, startOpt, start, rawOps) => {
          const c = normalizeConfig({
            kind: "fixed window",
            rate,
            period,
            capacity,
            start: startOpt,
          });
          const ops = rawOps.map((o) => ({ ...o, count: Math.min(o.count, capacity) }));
          let log: Admission[] = [];
          let origin: number | undefined;
          run(c, start, ops, (s) => {
            expectExactRetry(c, s);
            log = s.log;
            for (const w of s.d.ok ? s.d.writes : []) origin ??= w.state.ts;
          });
          if (origin === undefined) return;
          const windowOf = (t: number) => Math.floor((t - origin!) / period);
          const per = new Map<number, number>();
          for (const a of log) per.set(windowOf(a.t), (per.get(windowOf(a.t)) ?? 0) + a.n);
          const ws = [...per.keys()].sort((x, y) => x - y);
          for (let i = 0; i < ws.length; i++) {
            let sum = 0;
            for (let j = i; j < ws.length; j++) {
              sum += per.get(ws[j]!)!;
              expect(sum).toBeLessThanOrEqual(capacity + (ws[j]! - ws[i]!) * rate);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("every algorithm", () => {
  test("sharded: the total over all shards never exceeds the unsharded bound, and retryAfter is exact", () => {
    fc.assert(
      fc.property(
        configArb,
        clockArb,
        fc.array(opArb(300, 40, 1), { maxLength: 80 }),
        (config, start, rawOps) => {
          const c = normalizeConfig(config);
          const perCall = Math.floor(c.rate / c.shards) * (c.shards >= 3 ? 2 : 1);
          fc.pre(perCall >= 1);
          const ops = rawOps.map((o) => ({ ...o, count: Math.min(o.count, perCall) }));
          let log: Admission[] = [];
          run(c, start, ops, (s) => {
            expectExactRetry(c, s);
            log = s.log;
          });
          expectKindBound(c, log);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("reservations: admitted while within maxReserved, retryAfter is exact for denials", () => {
    fc.assert(
      fc.property(
        configArb,
        fc.integer({ min: 0, max: 20 }),
        clockArb,
        fc.array(opArb(300, 80, 1, true), { maxLength: 60 }),
        (config, maxReserved, start, rawOps) => {
          const c = normalizeConfig({ ...config, maxReserved: Math.min(maxReserved, config.rate) });
          // Every count the validation lets through, up to its limit.
          const valid = rawOps.filter((o) => {
            try {
              return admissibleCount(c, o.count, o.reserve) >= 0;
            } catch {
              return false;
            }
          });
          run(c, start, valid, (s) => expectExactRetry(c, s));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("the idle sweep never changes a decision (idle state = no state)", () => {
    fc.assert(
      fc.property(
        configArb,
        clockArb,
        fc.array(opArb(1200, 40, 2, true), { maxLength: 60 }),
        (config, start, rawOps) => {
          const c = normalizeConfig({ ...config, maxReserved: config.rate });
          const perCall = Math.floor(c.rate / c.shards) * (c.shards >= 3 ? 2 : 1);
          fc.pre(perCall >= 1);
          const ops = rawOps.map((o) => ({ ...o, count: Math.min(o.count, perCall) }));
          const strip = (ds: Final[]) => ds.map((d) => ({ ok: d.ok, retryAfter: d.retryAfter }));
          expect(strip(run(c, start, ops, undefined, true))).toEqual(
            strip(run(c, start, ops, undefined, false)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
