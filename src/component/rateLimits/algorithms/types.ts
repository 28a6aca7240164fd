import type { Calendar } from "../calendar.js";
import type { RateLimitConfig, RateLimitState } from "../model.js";
import type { Projection } from "../projection.js";
import type { StoredFields, StoredState } from "./index.js";

/** An algorithm's name in messages. */
export type AlgorithmId =
  "token bucket" | "fixed window" | "sliding window" | "exact sliding window" | "quota";

/** One shard's share of a limit: rate, capacity and maxReserved divided by the shard count. */
export type ShardConfig = {
  algorithm: Engine;
  rate: number;
  period: number;
  capacity: number;
  /** Undefined: reservations are unbounded. */
  maxReserved: number | undefined;
  /** Fixed-window alignment (ms since epoch), when the config sets one. */
  start: number | undefined;
  /** Calendar quotas: the period unit and time zone. */
  calendar?: Calendar;
};

/** What an algorithm's `configure` returns: its defaults and options, for the whole limit. */
export type ConfiguredOptions = {
  capacity: number;
  maxReserved: number | undefined;
  start?: number;
  calendar?: Calendar;
};

/**
 * What every part of the rate limiter outside this folder uses of an
 * algorithm once its config is checked: pure functions of (shard config,
 * state, time), and the codec of its stored state. `seed` identifies (name,
 * key) for algorithms whose windows depend on it. A state `null` means "no
 * state", which every algorithm treats as its initial state.
 */
export type Engine = {
  /** Its name in messages. */
  id: AlgorithmId;
  /** The option a message tells the user to raise so a larger count fits. */
  sizeOption: "rate" | "capacity" | "limit";
  /** Tokens are whole admissions (an admission log): splits and capacities round down. */
  wholeUnits: boolean;
  /** The stored form of a state: `alg` its id, and exactly the fields its state validator declares. */
  encode(state: RateLimitState): StoredState;
  /**
   * A stored state as this algorithm reads it; null when no state is stored
   * or another algorithm stored it (`alg`: the limit's kind or precision
   * changed, so the key starts afresh). Throws CORRUPT_STATE for a state it
   * cannot have written.
   */
  decode(stored: StoredFields): RateLimitState | null;
  initial(s: ShardConfig, seed: string, now: number): RateLimitState;
  /** Brings a state forward to `t`; a clock behind the state changes nothing. */
  advance(s: ShardConfig, state: RateLimitState, seed: string, t: number): RateLimitState;
  /** Tokens available at `t` in a state advanced to `t` (negative while reserved). */
  remaining(s: ShardConfig, state: RateLimitState, t: number): number;
  /** Most one call can take from a shard without reserving. */
  capacity(s: ShardConfig): number;
  /** Records `count` taken at `t` in a state advanced to `t`. */
  take(s: ShardConfig, state: RateLimitState, count: number, t: number): RateLimitState;
  /** Most one reservation can take from a shard (Infinity: unbounded). */
  reserveLimit(s: ShardConfig): number;
  /**
   * Takes `count` beyond what is available, if the reservation bound allows;
   * `payAt` is when the reserved work may run. Null: refused.
   */
  reserve(
    s: ShardConfig,
    state: RateLimitState,
    seed: string,
    t: number,
    count: number,
  ): { state: RateLimitState; payAt: number | undefined } | null;
  /** Is the state at `t` the same as having no state? (The sweep deletes it after that.) */
  idle(s: ShardConfig, state: RateLimitState, t: number): boolean;
  /**
   * Where `idle` should first hold, in closed form, so `idleAt` (../math.ts)
   * can check one instant instead of searching; a wrong guess only costs
   * the search.
   */
  idleGuess?(s: ShardConfig, state: RateLimitState): number;
  /** Gives back up to `amount` at `t` (state advanced to `t`), never above capacity. */
  credit(
    s: ShardConfig,
    state: RateLimitState,
    t: number,
    amount: number,
  ): { state: RateLimitState; credited: number };
  /** The time to decide at: later than `now` when the state must never go back in time. */
  decisionTime?(s: ShardConfig, states: (RateLimitState | null)[], now: number): number;
  /**
   * What `getValue` reports as `value` and `ts`: the stored `{ value, ts }`
   * as the peer does (token-based kinds, which `calculateRateLimit`
   * projects), or what is left now (the others).
   */
  reportsStored: boolean;
  /** Extra `getValue` fields (quotas: used, limit, resetsAt). */
  describe?(
    s: ShardConfig,
    state: RateLimitState | null,
    seed: string,
    now: number,
  ): { used: number; limit: number; resetsAt: number; resetsAtLocal: string };
  /** Start of the current window, for `getValue` (windowed algorithms). */
  windowStart?(s: ShardConfig, state: RateLimitState | null, seed: string, now: number): number;
};

/**
 * One rate-limit algorithm for the config variant `C` (see ./index.ts for
 * how to add one): its config checks, then its `Engine`.
 */
export type Algorithm<C extends RateLimitConfig> = Engine & {
  /** Config fields beyond kind, rate, period, maxReserved, shards, applyUpdates and stats. */
  options: readonly string[];
  /**
   * Checks the fields that give the rate and period (INVALID_CONFIG) and
   * returns them; quotas give a limit per calendar unit and a nominal period.
   */
  shape(config: C, name: string): { rate: number; period: number };
  /** Checks its own options (INVALID_CONFIG) and applies defaults. `rate` is already checked. */
  configure(config: C, name: string, rate: number): ConfiguredOptions;
  /**
   * The peer's `calculateRateLimit` for the kinds the peer has (token bucket,
   * fixed window): its math on the whole limit, `shards` ignored as the
   * peer's. Others project with their engine (../calculate.ts).
   */
  peerProjection?(
    existing: { value: number; ts: number } | null,
    config: C,
    now: number,
    count: number,
  ): Projection;
  /** The config `getValue` returns: with the defaults the peer's getValue fills in. */
  reportedConfig?(
    config: C,
    filled: { shards: number; capacity: number },
    windowStart: number | undefined,
  ): C;
};
