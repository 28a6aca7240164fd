/**
 * The rate-limit algorithms. Everything outside this folder (config checks,
 * the store, admission, reservations, credit, the idle sweep, the fold,
 * `getValue`, the React hook's projection) works through `Engine` and the
 * stored-state codec, and never tests a kind or reads a state field.
 *
 * Adding an algorithm:
 * 1. Write `./myAlgorithm.ts` exporting an `Algorithm<MyConfig>` (see
 *    ./types.ts) and the validator of the state it stores, tagged with its
 *    `id` (`alg: v.literal(...)`); its `encode`/`decode` are the only code
 *    that reads or writes those fields. ./tokenBucket.ts is the shortest.
 * 2. Add its config validator to `vRateLimitConfig` in ../model.ts.
 * 3. Add its state validator to `vStoredState` and its kind to `bind` below.
 * test/rateLimits/property.test.ts then runs it against the reference model
 * once its config is added to `configArb`, and
 * test/rateLimits/differential.test.ts through the real component.
 */
import { v, type Infer } from "convex/values";
import type { RateLimitConfig } from "../model.js";
import { exactSlidingWindow, vExactWindowState } from "./exactSlidingWindow.js";
import { fixedWindow, vFixedWindowState } from "./fixedWindow.js";
import { quota, vQuotaState } from "./quota.js";
import { slidingWindow, vSlidingWindowState } from "./slidingWindow.js";
import { tokenBucket, vTokenBucketState } from "./tokenBucket.js";
import type { Algorithm, ConfiguredOptions, Engine } from "./types.js";

export type { Algorithm, Engine, ShardConfig } from "./types.js";

/** What a shard document stores as its state: one tagged member per algorithm. */
export const vStoredState = v.union(
  vTokenBucketState,
  vFixedWindowState,
  vSlidingWindowState,
  vExactWindowState,
  vQuotaState,
);
export type StoredState = Infer<typeof vStoredState>;

/** Every config `kind`, for messages. */
export const KINDS: readonly RateLimitConfig["kind"][] = [
  "token bucket",
  "fixed window",
  "sliding window",
  "quota",
];

/** Options of every algorithm (beyond rate and period), to tell a misplaced option from an unknown field. */
export const ALL_OPTIONS: ReadonlySet<string> = new Set(
  [tokenBucket, fixedWindow, slidingWindow, exactSlidingWindow, quota]
    .flatMap((a) => a.options)
    .filter((o) => o !== "rate" && o !== "period"),
);

/** An algorithm bound to the config it serves: its checks, without the config's type. */
export type Bound = {
  engine: Engine;
  options: readonly string[];
  shape(name: string): { rate: number; period: number };
  configure(name: string, rate: number): ConfiguredOptions;
  reportedConfig(
    filled: { shards: number; capacity: number },
    windowStart: number | undefined,
  ): RateLimitConfig;
};

function bound<C extends RateLimitConfig>(alg: Algorithm<C>, config: C): Bound {
  return {
    engine: alg,
    options: alg.options,
    shape: (name) => alg.shape(config, name),
    configure: (name, rate) => alg.configure(config, name, rate),
    reportedConfig: (filled, windowStart) =>
      alg.reportedConfig?.(config, filled, windowStart) ?? { ...config, shards: filled.shards },
  };
}

/** The algorithm that serves `config`, looked up by its kind; undefined for an unknown kind. */
export function bind(config: RateLimitConfig): Bound | undefined {
  switch (config.kind) {
    case "token bucket":
      return bound(tokenBucket, config);
    case "fixed window":
      return bound(fixedWindow, config);
    case "sliding window":
      return bound(config.precision === "exact" ? exactSlidingWindow : slidingWindow, config);
    case "quota":
      return bound(quota, config);
    default:
      return undefined;
  }
}
