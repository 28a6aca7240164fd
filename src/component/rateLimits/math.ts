/**
 * Admission decisions as pure functions of (config, shard states, now,
 * count). No `ctx`: the component reads state, calls these, and writes the
 * result. The algorithm-specific parts live in ./algorithms/.
 */
import { ErrorCode, guardError } from "../lib/errors.js";
import type { ShardConfig } from "./algorithms/index.js";
import { remainingFrom } from "./algorithms/shared.js";
import { MIN_CHOOSE_TWO, normalizeConfig, shardConfig, type NormalizedConfig } from "./config.js";
import type { RateLimitConfig, RateLimitState } from "./model.js";
import { EPS, firstTime } from "./numeric.js";
import { ceil, floor, max, min } from "../lib/math.js";

/** Brings any state (null: no document) forward to `t`. */
export function advance(
  s: ShardConfig,
  state: RateLimitState | null,
  seed: string,
  t: number,
): RateLimitState {
  const alg = s.algorithm;
  return state === null ? alg.initial(s, seed, t) : alg.advance(s, state, seed, t);
}

/** Tokens available at `t` (any state; advances it first). */
export function remaining(
  s: ShardConfig,
  state: RateLimitState | null,
  seed: string,
  t: number,
): number {
  return state === null
    ? s.algorithm.remaining(s, s.algorithm.initial(s, seed, t), t)
    : remainingFrom(s, state, seed, t);
}

/** A shard as the component read it: its index and stored state (null = no document). */
export type ShardRead = { shard: number; state: RateLimitState | null };

/** What to write when a call is admitted. */
export type ShardWrite = { shard: number; state: RateLimitState; idleAt: number };

export type Decision =
  | { ok: true; retryAfter?: number; writes: ShardWrite[] }
  | { ok: false; retryAfter: number; needSecondShard?: false; reason?: "blocked" }
  /** Only for a sharded limit given one shard: read another and decide again. */
  | { ok: false; needSecondShard: true };

type Admit = { writes: { shard: number; state: RateLimitState }[]; payAt?: number } | null;

/** The admission rule at time `t`, for one or two shards. Null if denied. */
function admitAt(
  s: ShardConfig,
  reads: ShardRead[],
  seed: string,
  t: number,
  count: number,
  reserve: boolean,
): Admit {
  const alg = s.algorithm;
  const shards = reads.map((r) => {
    const state = advance(s, r.state, seed, t);
    return { shard: r.shard, state, left: alg.remaining(s, state, t) };
  });
  // 1. A shard that has enough on its own.
  for (const sh of shards) {
    if (sh.left + EPS >= count) {
      return { writes: [{ shard: sh.shard, state: alg.take(s, sh.state, count, t) }] };
    }
  }
  // 2. Two shards that have enough together: split so both end with the same remainder.
  const [a, b] = shards;
  if (shards.length === 2 && a !== undefined && b !== undefined) {
    const whole = (x: number) => (alg.wholeUnits ? floor(x + EPS) : x);
    const [left0, left1] = [whole(a.left), whole(b.left)];
    if (left0 >= 0 && left1 >= 0 && left0 + left1 + EPS >= count) {
      let first = (count + left0 - left1) / 2;
      if (alg.wholeUnits) first = floor(first);
      first = min(max(first, count - left1, 0), left0, count);
      return {
        writes: [
          { shard: a.shard, state: alg.take(s, a.state, first, t) },
          { shard: b.shard, state: alg.take(s, b.state, count - first, t) },
        ],
      };
    }
  }
  if (!reserve) return null;
  // 3. Reserve on the shard with the most left (the first of equals).
  let best = a;
  for (const sh of shards) if (best === undefined || sh.left > best.left) best = sh;
  if (best === undefined) return null;
  const reserved = alg.reserve(s, best.state, seed, t, count);
  if (reserved === null) return null;
  return { writes: [{ shard: best.shard, state: reserved.state }], payAt: reserved.payAt };
}

/**
 * Decides a call of `count` at `now` against the shard(s) read. Denied calls
 * write nothing and carry `retryAfter`: the earliest whole ms at which the same
 * call against the same shards would be admitted. Admitted reservations carry
 * `retryAfter` = when the reserved work may run.
 */
export function decide(
  c: NormalizedConfig,
  reads: ShardRead[],
  seed: string,
  now: number,
  count: number,
  reserve = false,
): Decision {
  const s = shardConfig(c);
  const alg = c.algorithm;
  const t =
    alg.decisionTime?.(
      s,
      reads.map((r) => r.state),
      now,
    ) ?? now;
  const [only] = reads;
  if (reads.length === 1 && only !== undefined && c.shards >= MIN_CHOOSE_TWO) {
    // Cheap path: the first shard alone. Reservations wait for the second read,
    // which may have room without reserving.
    if (remaining(s, only.state, seed, t) + EPS < count) {
      return { ok: false, needSecondShard: true };
    }
  }
  const admitted = admitAt(s, reads, seed, t, count, reserve);
  if (admitted === null) {
    const wait = firstTime(t, (u) => admitAt(s, reads, seed, u, count, reserve) !== null);
    return { ok: false, retryAfter: t + wait - now };
  }
  // Named fields, not `{ ...w, idleAt }`: that spread cost a decision more than
  // all its arithmetic (measured).
  const writes = admitted.writes.map(({ shard, state }) => ({
    shard,
    state,
    idleAt: idleAt(s, state, seed, t),
  }));
  const payAt = admitted.payAt;
  return payAt !== undefined && payAt > now
    ? { ok: true, retryAfter: payAt - now, writes }
    : { ok: true, writes };
}

/**
 * The time after which a state is equivalent to no state (full bucket, empty
 * windows). The sweep deletes documents past it.
 */
export function idleAt(s: ShardConfig, state: RateLimitState, seed: string, now: number): number {
  const alg = s.algorithm;
  const t0 = max(now, state.ts);
  const idleBy = (t: number) => alg.idle(s, alg.advance(s, state, seed, t), t);
  if (idleBy(t0)) return t0;
  // The algorithm's guess, checked to be the first idle ms the search would
  // return (within its 2^52 ms), saves the search's ~30 steps on every
  // admitted call.
  const guess = alg.idleGuess?.(s, state);
  if (guess !== undefined && Number.isFinite(guess)) {
    const d = max(1, ceil(guess - t0));
    if (d <= 2 ** 52 && idleBy(t0 + d) && (d === 1 || !idleBy(t0 + d - 1))) return t0 + d;
  }
  return t0 + firstTime(t0, idleBy);
}

/**
 * Gives back up to `amount` tokens to one shard, never above its capacity.
 * Returns the new state and how much was credited.
 */
export function creditState(
  s: ShardConfig,
  state: RateLimitState,
  seed: string,
  now: number,
  amount: number,
): { state: RateLimitState; credited: number } {
  return s.algorithm.credit(s, s.algorithm.advance(s, state, seed, now), now, amount);
}

/**
 * The error a denied call throws when the caller asked for `throws: true`.
 * `kind`, `name` and `retryAfter` match `@convex-dev/rate-limiter`'s
 * `RateLimitError`, so `isRateLimitError` checks keep working after a switch.
 */
export function rateLimitedError(name: string, retryAfter: number, reason?: "blocked") {
  const what = reason === "blocked" ? "blocked" : "exceeded";
  return guardError(
    ErrorCode.RATE_LIMITED,
    `Rate limit "${name}" ${what}; retry in ${retryAfter} ms`,
    { kind: "RateLimited", name, retryAfter, ...(reason ? { reason } : {}) },
  );
}

/**
 * Projects a shard's remaining value to time `t` (server clock) with the full
 * algorithm: `ok` if `count` fits, else `retryAfter` (ms from `t`) until it
 * does. The React hook uses the lighter ./projection.ts, which this checks in
 * test/rateLimits/projection.test.ts.
 */
export function projectRemaining(
  config: RateLimitConfig,
  state: RateLimitState | null,
  t: number,
  count = 0,
): { value: number; ok: boolean; retryAfter?: number } {
  const s = shardConfig(normalizeConfig(config));
  // The seed only matters for a missing state, which is full whatever the seed.
  const value = remaining(s, state, "", t);
  if (value + EPS >= count) return { value, ok: true };
  if (count > s.algorithm.capacity(s) + EPS) return { value, ok: false, retryAfter: Infinity };
  return {
    value,
    ok: false,
    retryAfter: firstTime(t, (u) => remaining(s, state, "", u) + EPS >= count),
  };
}
