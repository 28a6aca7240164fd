import type { Calendar } from "../calendar.js";
import type { RateLimitConfig, RateLimitState } from "../model.js";

/** One shard's share of a limit: rate, capacity and maxReserved divided by the shard count. */
export type ShardConfig = {
  algorithm: Algorithm;
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
 * One rate-limit algorithm: pure functions of (shard config, state, time).
 * `seed` identifies (name, key) for algorithms whose windows depend on it.
 * A state `null` means "no document", which every algorithm treats as its
 * initial state. See ./index.ts for how to add one.
 */
export type Algorithm = {
  /** Its name in messages and in `NormalizedConfig.algorithm`. */
  id: string;
  /** The config `kind` it serves. */
  kind: RateLimitConfig["kind"];
  /** Among algorithms of the same kind, does this one serve `config`? (Omitted: yes.) */
  selects?(config: RateLimitConfig): boolean;
  /** Config fields beyond kind, rate, period, maxReserved and shards. */
  options: readonly string[];
  /** The option a message tells the user to raise so a larger count fits. */
  sizeOption: "rate" | "capacity" | "limit";
  /**
   * For kinds without `rate` and `period` fields (quotas): checks the fields
   * that stand for them (INVALID_CONFIG) and returns the rate and a nominal
   * period. Omitted: `rate` and `period` are read from the config.
   */
  shape?(config: RateLimitConfig, name: string): { rate: number; period: number };
  /** Tokens are whole admissions (an admission log): splits and capacities round down. */
  wholeUnits: boolean;
  /** Checks its own options (INVALID_CONFIG) and applies defaults. `rate` is already checked. */
  configure(config: RateLimitConfig, name: string, rate: number): ConfiguredOptions;
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
  /** Is the state at `t` the same as having no document? (The sweep deletes it after that.) */
  idle(s: ShardConfig, state: RateLimitState, t: number): boolean;
  /** Gives back up to `amount` at `t` (state advanced to `t`), never above capacity. */
  credit(
    s: ShardConfig,
    state: RateLimitState,
    t: number,
    amount: number,
  ): { state: RateLimitState; credited: number };
  /** The time to decide at: later than `now` when the state must never go back in time. */
  decisionTime?(s: ShardConfig, states: (RateLimitState | null)[], now: number): number;
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
