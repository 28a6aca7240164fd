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

// ---------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------

import { ErrorCode, guardError } from "../lib/errors.js";
import { assertString } from "../lib/validate.js";

/** Longest limit name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 256;
/**
 * Names starting with this belong to convex-guard's own limits (confirmation
 * codes' issue and failure budgets). Hosts cannot use them, so no host limit,
 * `reset` or `credit` can touch the budgets that bound code guessing.
 */
export const RESERVED_NAME_PREFIX = "guard:";

/** Refuses a name in the reserved "guard:" namespace (INVALID_ARGUMENT). */
export function assertNotReserved(name: string): void {
  if (name.startsWith(RESERVED_NAME_PREFIX)) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `Rate limit name "${name}" is reserved: names starting with "${RESERVED_NAME_PREFIX}" belong to convex-guard`,
      { name },
    );
  }
}

/** A name a host may give a limit: non-empty, at most 256 bytes, not reserved. */
export function assertLimitName(name: unknown): asserts name is string {
  assertString(name, "name", MAX_NAME_BYTES);
  assertNotReserved(name);
}

/** Most shards a limit may have (a reset deletes them all in one bounded query). */
export const MAX_SHARDS = 1024;
/** Largest `rate` for `precision: "exact"`: the log then holds at most 2 * 1000 entries. */
export const MAX_EXACT_RATE = 1000;
/** Shards below this read only one shard per call: reading both of two would touch every shard. */
export const MIN_CHOOSE_TWO = 3;

// Float slack for comparisons of token counts (token buckets refill continuously).
const EPS = 1e-9;

/**
 * What one shard stores. Per kind:
 * - token bucket: `value` tokens at time `ts`.
 * - fixed window: `value` tokens in the window that starts at `ts`.
 * - sliding window: `value` admitted in the bucket that starts at `ts`
 *   (buckets are aligned to multiples of `period`), `prev` in the bucket before.
 * - sliding window, exact: `log` = [t0, n0, t1, n1, ...] admissions sorted by
 *   time (entries after `now` are reservations); `value` = their sum, `ts` =
 *   the latest call time that wrote it.
 */
export type RateLimitState = { value: number; ts: number; prev?: number; log?: number[] };

/** A checked config with defaults applied. Numbers are for the whole limit (all shards). */
export type NormalizedConfig = {
  kind: RateLimitConfig["kind"];
  rate: number;
  period: number;
  capacity: number;
  maxReserved: number | undefined;
  shards: number;
  exact: boolean;
  start: number | undefined;
};

/** One shard's share of a limit: rate, capacity and maxReserved divided by `shards`. */
export type ShardConfig = Omit<NormalizedConfig, "shards">;

function configError(name: string, message: string) {
  return guardError(ErrorCode.INVALID_CONFIG, `Rate limit "${name}": ${message}`, { name });
}

function positive(name: string, what: string, x: unknown): number {
  if (typeof x !== "number" || !Number.isFinite(x) || x <= 0) {
    throw configError(name, `${what} must be a finite number greater than 0, got ${String(x)}`);
  }
  return x;
}

/** The fields only some kinds have. */
const KIND_ONLY_FIELDS = {
  precision: ["sliding window"],
  capacity: ["token bucket", "fixed window"],
  start: ["fixed window"],
} as const;

/**
 * Rejects a field the config's kind does not have. Types prevent it in the
 * client; the component's runtime validator is flat (see
 * rateLimitValidators.ts), so this is where the trust boundary catches it.
 */
function checkKindFields(config: RateLimitConfig, name: string) {
  for (const [field, kinds] of Object.entries(KIND_ONLY_FIELDS)) {
    const value = (config as Record<string, unknown>)[field];
    if (value !== undefined && !(kinds as readonly string[]).includes(config.kind)) {
      throw configError(name, `${field} is not an option of a ${config.kind} limit`);
    }
  }
}

/** Checks a config and applies defaults. Throws INVALID_CONFIG. */
export function normalizeConfig(config: RateLimitConfig, name = "limit"): NormalizedConfig {
  if (typeof config !== "object" || config === null)
    throw configError(name, "config must be an object");
  const kind = config.kind;
  if (kind !== "sliding window" && kind !== "token bucket" && kind !== "fixed window") {
    throw configError(
      name,
      `kind must be "sliding window", "token bucket" or "fixed window", got ${String(kind)}`,
    );
  }
  checkKindFields(config, name);
  const rate = positive(name, "rate", config.rate);
  const period = positive(name, "period", config.period);
  const capacity =
    kind !== "sliding window" && config.capacity !== undefined
      ? positive(name, "capacity", config.capacity)
      : rate;
  const maxReserved = config.maxReserved;
  if (
    maxReserved !== undefined &&
    (typeof maxReserved !== "number" || !Number.isFinite(maxReserved) || maxReserved < 0)
  ) {
    throw configError(
      name,
      `maxReserved must be a finite number of at least 0, got ${String(maxReserved)}`,
    );
  }
  const shards = config.shards ?? 1;
  if (
    typeof shards !== "number" ||
    !Number.isInteger(shards) ||
    shards < 1 ||
    shards > MAX_SHARDS
  ) {
    throw configError(
      name,
      `shards must be an integer from 1 to ${MAX_SHARDS}, got ${String(shards)}`,
    );
  }
  let exact = false;
  if (kind === "sliding window") {
    const precision = config.precision ?? "approximate";
    if (precision !== "approximate" && precision !== "exact") {
      throw configError(
        name,
        `precision must be "approximate" or "exact", got ${String(precision)}`,
      );
    }
    exact = precision === "exact";
    if (exact && rate > MAX_EXACT_RATE) {
      throw configError(
        name,
        `precision "exact" keeps one entry per admission and allows rate <= ${MAX_EXACT_RATE}, got ${rate}; use the approximate sliding window`,
      );
    }
    if (exact && maxReserved !== undefined && maxReserved > rate) {
      throw configError(
        name,
        `precision "exact" allows maxReserved <= rate (${rate}), got ${maxReserved}`,
      );
    }
  }
  let start: number | undefined;
  if (kind === "fixed window" && config.start !== undefined) {
    if (typeof config.start !== "number" || !Number.isFinite(config.start)) {
      throw configError(
        name,
        `start must be a finite number (ms since epoch), got ${String(config.start)}`,
      );
    }
    start = config.start;
  }
  return { kind, rate, period, capacity, maxReserved, shards, exact, start };
}

/** One shard's share of the limit. The shares add up to the whole, so the total never exceeds the rate. */
export function shardConfig(c: NormalizedConfig): ShardConfig {
  const n = c.shards;
  return {
    kind: c.kind,
    rate: c.rate / n,
    period: c.period,
    capacity: c.capacity / n,
    // An exact log reserves at most `rate`, so its size stays bounded.
    maxReserved: c.maxReserved !== undefined ? c.maxReserved / n : c.exact ? c.rate / n : undefined,
    exact: c.exact,
    start: c.start,
  };
}

/** Largest count one call can take from a shard without reserving (exact logs hold whole admissions). */
function shardCapacity(s: ShardConfig): number {
  return s.exact ? Math.floor(s.capacity + EPS) : s.capacity;
}

/** A count is a non-negative safe integer (tokens are whole units). */
export function assertCount(count: unknown, name = "limit"): asserts count is number {
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `count must be a non-negative integer, got ${String(count)}`,
      { name },
    );
  }
}

/** Largest count one call can ever take: what the shards it reads hold, or one shard's capacity + maxReserved when reserving. */
function maxCount(c: NormalizedConfig, reserve: boolean): number {
  const s = shardConfig(c);
  const fits = shardCapacity(s) * (c.shards >= MIN_CHOOSE_TWO ? 2 : 1);
  if (!reserve) return fits;
  // A reservation lands on one shard; an exact log only reserves what a window holds.
  const reservable = s.exact
    ? shardCapacity(s)
    : s.maxReserved === undefined
      ? Infinity
      : s.capacity + s.maxReserved;
  return Math.max(fits, reservable);
}

/**
 * Throws if `count` is not a valid count or could never be admitted (see
 * `maxCount`); the message says what would fit it.
 */
export function checkCount(
  c: NormalizedConfig,
  count: unknown,
  reserve: boolean,
  name = "limit",
): number {
  assertCount(count, name);
  const limit = maxCount(c, reserve);
  if (count <= limit + EPS) return count;
  throw guardError(ErrorCode.TOO_LARGE, tooLargeMessage(name, c, count, limit, reserve), {
    name,
    count,
    max: round2(limit),
  });
}

function tooLargeMessage(
  name: string,
  c: NormalizedConfig,
  count: number,
  limit: number,
  reserve: boolean,
): string {
  const head = `Rate limit "${name}": count ${count} can never be admitted; one call can take at most ${round2(limit)}`;
  // A sliding window has no `capacity` option: its rate is what a window holds.
  const option = c.kind === "sliding window" ? "rate" : "capacity";
  if (c.shards === 1)
    return `${head}. Raise the ${option} to at least ${count}${reserveHint(c, count, reserve)}.`;
  // The most shards (fewer than now) with which it would fit.
  let fewer = 0;
  for (let n = c.shards - 1; n >= 1 && fewer === 0; n--) {
    if (count <= maxCount({ ...c, shards: n }, reserve) + EPS) fewer = n;
  }
  const reads = c.shards >= MIN_CHOOSE_TWO ? 2 : 1;
  // An exact log admits whole units per shard, so each shard needs ceil(count / reads).
  const needed = c.exact
    ? c.shards * Math.ceil(count / reads)
    : Math.ceil((count * c.shards) / reads);
  const hint =
    fewer > 0 ? `use at most ${fewer} shard${fewer === 1 ? "" : "s"}` : "use fewer shards";
  return `${head} (${option} ${round2(c.capacity)} over ${c.shards} shards; a call reads ${reads}). To fit it, ${hint}, or raise the ${option} to ${needed} with ${c.shards} shards.`;
}

/** Suggests reserving only where a reservation could hold `count` (an exact log reserves at most a window). */
function reserveHint(c: NormalizedConfig, count: number, reserve: boolean): string {
  if (!reserve) return count <= maxCount(c, true) + EPS ? ", or pass reserve: true" : "";
  // Reserving fails only with a maxReserved (or an exact log, where it cannot help).
  if (c.exact || c.maxReserved === undefined) return "";
  return `, or raise maxReserved to at least ${Math.ceil(count - c.capacity)}`;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** FNV-1a: a stable 32-bit hash, so a key's window alignment is the same after its state is swept. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Start of the fixed window containing `now`. Windows are aligned to
 * `config.start`, or else to an offset in [0, period) derived from the hash of
 * (name, key): spread across keys like the peer's random start, but
 * deterministic, so a swept (idle) key comes back with the same windows.
 */
export function fixedWindowStart(s: ShardConfig, seed: string, now: number): number {
  const origin = s.start ?? Math.floor((hash32(seed) / 2 ** 32) * s.period);
  return origin + Math.floor((now - origin) / s.period) * s.period;
}

/** The state a key has before its first call (equivalent to no document). */
export function initialState(s: ShardConfig, seed: string, now: number): RateLimitState {
  switch (s.kind) {
    case "token bucket":
      return { value: s.capacity, ts: now };
    case "fixed window":
      return { value: s.capacity, ts: fixedWindowStart(s, seed, now) };
    case "sliding window":
      return s.exact
        ? { value: 0, ts: now, log: [] }
        : { value: 0, prev: 0, ts: bucketStart(s, now) };
  }
}

function bucketStart(s: ShardConfig, t: number): number {
  return Math.floor(t / s.period) * s.period;
}

/**
 * Brings a state forward to time `t` (refill, window rollover, log pruning).
 * A clock that went backwards (t before the state) changes nothing.
 */
export function advance(
  s: ShardConfig,
  state: RateLimitState | null,
  seed: string,
  t: number,
): RateLimitState {
  if (state === null) return initialState(s, seed, t);
  switch (s.kind) {
    case "token bucket": {
      if (t <= state.ts) return state;
      return {
        value: Math.min(s.capacity, state.value + ((t - state.ts) * s.rate) / s.period),
        ts: t,
      };
    }
    case "fixed window": {
      const n = Math.floor((t - state.ts) / s.period);
      if (n <= 0) return state;
      return { value: Math.min(s.capacity, state.value + n * s.rate), ts: state.ts + n * s.period };
    }
    case "sliding window": {
      if (s.exact) {
        // `ts` is the latest call time seen: a clock that steps back never
        // un-prunes entries, it is treated as that latest time.
        const horizon = Math.max(t, state.ts) - s.period;
        const log = state.log ?? [];
        let i = 0;
        while (i < log.length && log[i]! <= horizon) i += 2;
        if (i === 0) return t <= state.ts ? state : { ...state, ts: t };
        const kept = log.slice(i);
        return { value: sumLog(kept), ts: Math.max(state.ts, t), log: kept };
      }
      const n = Math.floor((t - state.ts) / s.period);
      if (n <= 0) return state;
      // A bucket never holds more than `rate`: reserved overflow spills into the
      // next bucket, so a reservation is paid off at `rate` per period and the
      // estimate is continuous and non-increasing between calls.
      const cur = state.value;
      return {
        value: Math.max(0, cur - n * s.rate),
        prev: Math.min(Math.max(0, cur - (n - 1) * s.rate), s.rate),
        ts: state.ts + n * s.period,
      };
    }
  }
}

function sumLog(log: number[]): number {
  let sum = 0;
  for (let i = 1; i < log.length; i += 2) sum += log[i]!;
  return sum;
}

/**
 * Tokens available at `t` for a state already advanced to `t`. Negative
 * while reservations are outstanding.
 */
export function remainingAt(s: ShardConfig, st: RateLimitState, t: number): number {
  if (s.kind !== "sliding window") return st.value;
  if (s.exact) return shardCapacity(s) - sumLog(st.log ?? []);
  const elapsed = Math.min(Math.max((t - st.ts) / s.period, 0), 1);
  return s.rate - ((st.prev ?? 0) * (1 - elapsed) + st.value);
}

/** Tokens available at `t` (any state; advances it first). */
export function remaining(
  s: ShardConfig,
  state: RateLimitState | null,
  seed: string,
  t: number,
): number {
  return remainingAt(s, advance(s, state, seed, t), t);
}

/** An exact log's reservations at `t`: admissions logged after `t`. */
function reservedAt(st: RateLimitState, t: number): number {
  const log = st.log ?? [];
  let sum = 0;
  for (let i = 0; i < log.length; i += 2) if (log[i]! > t) sum += log[i + 1]!;
  return sum;
}

/**
 * Records `count` taken by a call at time `t` in a state advanced to `t`.
 * Exact logs record it at `at` (later than `t` for a reservation).
 */
function take(
  s: ShardConfig,
  st: RateLimitState,
  count: number,
  t: number,
  at = t,
): RateLimitState {
  if (count === 0) return st;
  if (s.kind === "sliding window" && s.exact) {
    const log = [...(st.log ?? [])];
    let i = log.length;
    while (i > 0 && log[i - 2]! > at) i -= 2;
    if (i > 0 && log[i - 2] === at) log[i - 1]! += count;
    else log.splice(i, 0, at, count);
    return { value: st.value + count, ts: Math.max(st.ts, t), log };
  }
  if (s.kind === "sliding window") return { ...st, value: st.value + count };
  return { ...st, value: st.value - count };
}

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
    const mid = lo + Math.floor((hi - lo) / 2);
    if (ok(now + mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** A shard as the component read it: its index and stored state (null = no document). */
export type ShardRead = { shard: number; state: RateLimitState | null };

/** What to write when a call is admitted. */
export type ShardWrite = { shard: number; state: RateLimitState; idleAt: number };

export type Decision =
  | { ok: true; retryAfter?: number; writes: ShardWrite[] }
  | { ok: false; retryAfter: number; needSecondShard?: false }
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
  const sts = reads.map((r) => advance(s, r.state, seed, t));
  const rem = sts.map((st) => remainingAt(s, st, t));
  // 1. A shard that has enough on its own.
  for (let i = 0; i < sts.length; i++) {
    if (rem[i]! + EPS >= count)
      return { writes: [{ shard: reads[i]!.shard, state: take(s, sts[i]!, count, t) }] };
  }
  // 2. Two shards that have enough together: split so both end with the same remainder.
  if (sts.length === 2) {
    const [r0, r1] = s.exact
      ? [Math.floor(rem[0]! + EPS), Math.floor(rem[1]! + EPS)]
      : [rem[0]!, rem[1]!];
    if (r0 >= 0 && r1 >= 0 && r0 + r1 + EPS >= count) {
      let c0 = (count + r0 - r1) / 2;
      if (s.exact) c0 = Math.floor(c0);
      c0 = Math.min(Math.max(c0, count - r1, 0), r0, count);
      return {
        writes: [
          { shard: reads[0]!.shard, state: take(s, sts[0]!, c0, t) },
          { shard: reads[1]!.shard, state: take(s, sts[1]!, count - c0, t) },
        ],
      };
    }
  }
  if (!reserve) return null;
  // 3. Reserve on the shard with the most left, within maxReserved.
  let best = 0;
  for (let i = 1; i < sts.length; i++) if (rem[i]! > rem[best]!) best = i;
  const st = sts[best]!;
  if (s.kind === "sliding window" && s.exact) {
    // Reserved = admissions logged after t. The work runs at the earliest time
    // x whose window has room, and is logged at x.
    if (count > shardCapacity(s) || reservedAt(st, t) + count > s.maxReserved! + EPS) return null;
    const x = t + firstTime(t, (u) => remaining(s, st, seed, u) + EPS >= count);
    return { writes: [{ shard: reads[best]!.shard, state: take(s, st, count, t, x) }], payAt: x };
  }
  // Reserved = how far below zero the remaining goes.
  if (s.maxReserved !== undefined && count - rem[best]! > s.maxReserved + EPS) return null;
  const next = take(s, st, count, t);
  return { writes: [{ shard: reads[best]!.shard, state: next }], payAt: paidAt(s, next, seed, t) };
}

/** When a state's reservations are paid (remaining back to >= 0). */
function paidAt(s: ShardConfig, st: RateLimitState, seed: string, t: number): number | undefined {
  if (remainingAt(s, st, t) + EPS >= 0) return undefined;
  return t + firstTime(t, (u) => remaining(s, st, seed, u) + EPS >= 0);
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
  // An exact log never goes back in time: a call whose clock is behind the
  // latest call that wrote the log (transactions can commit out of timestamp
  // order) is decided and logged as of that latest time.
  const t = s.exact ? Math.max(now, ...reads.map((r) => r.state?.ts ?? now)) : now;
  const canReadTwo = c.shards >= MIN_CHOOSE_TWO;
  if (reads.length === 1 && canReadTwo) {
    // Cheap path: the first shard alone. Reservations wait for the second read,
    // which may have room without reserving.
    const st = advance(s, reads[0]!.state, seed, t);
    if (remainingAt(s, st, t) + EPS < count) return { ok: false, needSecondShard: true };
  }
  const admitted = admitAt(s, reads, seed, t, count, reserve);
  if (admitted === null) {
    const wait = firstTime(t, (u) => admitAt(s, reads, seed, u, count, reserve) !== null);
    return { ok: false, retryAfter: t + wait - now };
  }
  const writes = admitted.writes.map((w) => ({ ...w, idleAt: idleAt(s, w.state, seed, t) }));
  const payAt = admitted.payAt;
  return payAt !== undefined && payAt > now
    ? { ok: true, retryAfter: payAt - now, writes }
    : { ok: true, writes };
}

/** Is the state at `t` the same as having no document at all? */
function isIdle(s: ShardConfig, st: RateLimitState, _t: number): boolean {
  if (s.kind === "sliding window")
    return s.exact ? (st.log ?? []).length === 0 : st.value === 0 && (st.prev ?? 0) === 0;
  return st.value + EPS >= s.capacity;
}

/**
 * The time after which a state is equivalent to no state (full bucket, empty
 * windows). The sweep deletes documents past it. Fixed windows qualify because
 * their alignment is a function of (name, key), not of the stored state.
 */
export function idleAt(s: ShardConfig, state: RateLimitState, seed: string, now: number): number {
  const t0 = Math.max(now, state.ts);
  if (isIdle(s, advance(s, state, seed, t0), t0)) return t0;
  return t0 + firstTime(t0, (t) => isIdle(s, advance(s, state, seed, t), t));
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
  const st = advance(s, state, seed, now);
  if (s.kind !== "sliding window") {
    const credited = Math.max(0, Math.min(amount, s.capacity - st.value));
    return { state: { ...st, value: st.value + credited }, credited };
  }
  if (s.exact) {
    // Remove the most recent admissions (reservations first).
    const log = [...(st.log ?? [])];
    let left = amount;
    while (left > 0 && log.length > 0) {
      const n = log[log.length - 1]!;
      if (n <= left) {
        left -= n;
        log.length -= 2;
      } else {
        log[log.length - 1] = n - left;
        left = 0;
      }
    }
    return {
      state: { value: sumLog(log), ts: Math.max(st.ts, now), log },
      credited: amount - left,
    };
  }
  // Approximate: take from the current bucket (each unit frees 1), then from
  // the previous one (each unit frees its weight, 1 - elapsed fraction).
  const fromCur = Math.min(st.value, amount);
  const w = 1 - Math.min(Math.max((now - st.ts) / s.period, 0), 1);
  const prev = st.prev ?? 0;
  const fromPrev = w > 0 ? Math.min(prev, (amount - fromCur) / w) : 0;
  return {
    state: { value: st.value - fromCur, prev: prev - fromPrev, ts: st.ts },
    credited: fromCur + fromPrev * w,
  };
}

/**
 * The error a denied call throws when the caller asked for `throws: true`.
 * `kind`, `name` and `retryAfter` match `@convex-dev/rate-limiter`'s
 * `RateLimitError`, so `isRateLimitError` checks keep working after a switch.
 */
export function rateLimitedError(name: string, retryAfter: number) {
  return guardError(
    ErrorCode.RATE_LIMITED,
    `Rate limit "${name}" exceeded; retry in ${retryAfter} ms`,
    {
      kind: "RateLimited",
      name,
      retryAfter,
    },
  );
}

/**
 * Projects a shard's remaining value to time `t` (server clock), as the React
 * hook does with `getValue`'s `state`: `ok` if `count` fits, else `retryAfter`
 * (ms from `t`) until it does.
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
  if (count > shardCapacity(s) + EPS) return { value, ok: false, retryAfter: Infinity };
  return {
    value,
    ok: false,
    retryAfter: firstTime(t, (u) => remaining(s, state, "", u) + EPS >= count),
  };
}
