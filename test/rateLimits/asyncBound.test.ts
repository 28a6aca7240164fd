/**
 * Asynchronous limits: the over-admission bound, over random concurrent
 * schedules. Callers decide on stale snapshots (any version at or after the
 * oldest one a stale read may see), commit later in any order, and folds run
 * at random times, in random batch sizes, sometimes failing (a failed pass
 * changes nothing) and sometimes repeated. The model uses the component's own
 * pure functions (`decideOnApplied`, `foldRows`), so it checks the rule itself.
 *
 * The bound: once every row is folded, a call Y admitted without `reserve`
 * leaves the balance at its commit no lower than
 *   -(count of Y + consumption committed between Y's snapshot and Y's commit),
 * whatever the fold lag. Consumption is never lost: the folded state after the
 * last fold equals every admitted row applied in commit order.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { decideOnApplied, foldRows, MAX_UNFOLDED } from "../../src/component/rateLimits/async.js";
import {
  normalizeConfig,
  shardConfig,
  type NormalizedConfig,
} from "../../src/component/rateLimits/config.js";
import { remaining } from "../../src/component/rateLimits/math.js";
import type { RateLimitConfig, RateLimitState } from "../../src/component/rateLimits/model.js";

type Row = { id: number; count: number; ts: number };

function decideAsync(
  c: NormalizedConfig,
  state: RateLimitState | null,
  rows: Row[],
  seed: string,
  now: number,
  count: number,
  reserve: boolean,
) {
  const applied = foldRows(shardConfig(c), state, seed, rows);
  return decideOnApplied(c, state, applied, seed, now, count, reserve);
}
/** One database version: the folded state and the rows not folded yet, in commit order. */
type Version = {
  state: RateLimitState | null;
  pending: Row[];
  /** Consumption folded into `state` (the state document's `folded`). */
  folded: number;
  /** Rows committed so far (folded or not). */
  appended: number;
};
type Caller = { snapshot: number; count: number };

type Op =
  | { kind: "start"; count: number; lag: number }
  | { kind: "commit"; pick: number }
  | { kind: "fold"; batch: number; fails: boolean; twice: boolean }
  | { kind: "tick"; dt: number };

const vOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("start" as const),
      count: fc.integer({ min: 1, max: 3 }),
      lag: fc.integer({ min: 0, max: 6 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("commit" as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fold" as const),
      batch: fc.integer({ min: 1, max: 8 }),
      fails: fc.boolean(),
      twice: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("tick" as const),
      dt: fc.integer({ min: 0, max: 5_000 }),
    }),
  },
);

const vConfig: fc.Arbitrary<RateLimitConfig> = fc.oneof(
  fc.record({
    kind: fc.constant("token bucket" as const),
    rate: fc.integer({ min: 1, max: 20 }),
    period: fc.constantFrom(10_000, 60_000),
    capacity: fc.integer({ min: 3, max: 12 }),
    applyUpdates: fc.constant("asynchronously" as const),
  }),
  fc.record({
    kind: fc.constant("fixed window" as const),
    rate: fc.integer({ min: 3, max: 12 }),
    period: fc.constantFrom(10_000, 60_000),
    start: fc.constant(0),
    applyUpdates: fc.constant("asynchronously" as const),
  }),
);

const SEED = "async\u0000k";

function run(config: RateLimitConfig, ops: Op[]) {
  const c = normalizeConfig(config, "async");
  const s = shardConfig(c);
  let now = 1_000_000;
  const versions: Version[] = [{ state: null, pending: [], folded: 0, appended: 0 }];
  const latest = () => versions[versions.length - 1]!;
  const committed: Row[] = []; // every admitted row, in commit order
  const inFlight: Caller[] = [];
  let worst = 0; // largest violation of the bound seen (<= 0 holds)
  let nextId = 0;
  for (const op of ops) {
    if (op.kind === "tick") now += op.dt;
    else if (op.kind === "start") {
      // A stale snapshot: any of the last `lag` versions.
      const snapshot = Math.max(0, versions.length - 1 - op.lag);
      inFlight.push({ snapshot, count: op.count });
    } else if (op.kind === "commit" && inFlight.length > 0) {
      const [caller] = inFlight.splice(op.pick % inFlight.length, 1);
      const seen = versions[caller!.snapshot]!;
      if (seen.pending.length > MAX_UNFOLDED) continue;
      const d = decideAsync(c, seen.state, seen.pending, SEED, now, caller!.count, false);
      if (!d.ok) continue;
      const row = { id: nextId++, count: caller!.count, ts: now };
      // Consumption committed after the caller's snapshot (racing callers, stale reads).
      const sinceCount = committed.slice(seen.appended).reduce((n, r) => n + r.count, 0);
      committed.push(row);
      const v = latest();
      versions.push({ ...v, pending: [...v.pending, row], appended: v.appended + 1 });
      const all = foldRows(s, null, SEED, committed);
      const balance = remaining(s, all, SEED, now);
      worst = Math.max(worst, -(caller!.count + sinceCount) - balance - 1e-9);
    } else if (op.kind === "fold") {
      for (let pass = 0; pass < (op.twice ? 2 : 1); pass++) {
        if (op.fails) continue; // a failed pass rolls back: nothing changes
        const v = latest();
        const rows = v.pending.slice(0, op.batch);
        if (rows.length === 0) continue;
        const state = foldRows(s, v.state, SEED, rows);
        const folded = v.folded + rows.reduce((n, r) => n + r.count, 0);
        versions.push({ ...v, state, pending: v.pending.slice(rows.length), folded });
      }
    }
  }
  return { c, s, versions, committed, worst, now };
}

describe("asynchronous limits: over-admission bound", () => {
  test("an admitted call leaves the balance at most its count plus what committed since its snapshot below zero, whatever the fold timing", () => {
    fc.assert(
      fc.property(
        vConfig,
        fc.array(vOp, { minLength: 20, maxLength: 150, size: "max" }),
        (config, ops) => {
          const { worst } = run(config, ops);
          expect(worst).toBeLessThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("folding loses nothing and counts each row once, across failed and repeated passes", () => {
    fc.assert(
      fc.property(
        vConfig,
        fc.array(vOp, { minLength: 20, maxLength: 150, size: "max" }),
        (config, ops) => {
          const { s, versions, committed } = run(config, ops);
          const v = versions[versions.length - 1]!;
          const drained = foldRows(s, v.state, SEED, v.pending);
          expect(drained).toEqual(foldRows(s, null, SEED, committed));
          const total = committed.reduce((n, r) => n + r.count, 0);
          expect(v.folded + v.pending.reduce((n, r) => n + r.count, 0)).toBe(total);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("the peer's rule (the folded state alone) over-admits with the fold lag; ours does not", () => {
    const config: RateLimitConfig = {
      kind: "token bucket",
      rate: 1,
      period: 60_000,
      capacity: 3,
      applyUpdates: "asynchronously",
    };
    const c = normalizeConfig(config, "async");
    const s = shardConfig(c);
    // Ten sequential calls before any fold. The peer decides on the folded
    // state alone, so all ten pass; ours counts the unfolded rows: four pass
    // (the fourth on an exhausted balance, one call of overshoot).
    const peer: Row[] = [];
    const ours: Row[] = [];
    for (let i = 0; i < 10; i++) {
      if (decideAsync(c, null, [], SEED, 1000, 1, false).ok)
        peer.push({ id: i, count: 1, ts: 1000 });
      if (decideAsync(c, null, ours, SEED, 1000, 1, false).ok)
        ours.push({ id: i, count: 1, ts: 1000 });
    }
    expect(peer).toHaveLength(10);
    expect(ours).toHaveLength(4);
    expect(remaining(s, foldRows(s, null, SEED, peer), SEED, 1000)).toBe(-7);
    expect(remaining(s, foldRows(s, null, SEED, ours), SEED, 1000)).toBe(-1);
  });
});
