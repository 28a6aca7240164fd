/**
 * The rate-limit algorithms. Everything outside this folder (config checks,
 * the store, admission, reservations, credit, the idle sweep, the fold,
 * `getValue`, `calculateRateLimit`) works through `Engine` and the
 * stored-state codec, and never tests a kind or reads a state field. The one
 * exception is ../projection.ts, the React hook's projection, which switches
 * on kind so the browser bundle does not carry the algorithms.
 *
 * Adding an algorithm:
 * 1. Write `./myAlgorithm.ts` exporting an `Algorithm<MyConfig>` (see
 *    ./types.ts) and the validator of the state it stores; its
 *    `encode`/`decode` are the only code that reads or writes those fields,
 *    tagged with its id (`alg`). ./tokenBucket.ts is the shortest.
 * 2. Add its config validator to `vRateLimitConfig` in ../model.ts (fields
 *    of primitive values, as `vRateLimitConfigArg` takes them).
 * 3. Add its state validator's fields to `vStoredState`, and its kind to
 *    `KINDS` and `bind` below.
 * 4. Add its `case` to `project` in ../projection.ts (the browser's copy of
 *    the projection; the compiler asks for it).
 * test/rateLimits/property.test.ts then runs it against the reference model
 * once its config is added to `configArb`, and
 * test/rateLimits/differential.test.ts through the real component.
 */
import { v, type Infer, type Validator, type VOptional } from "convex/values";
import type {
  FixedWindowConfig,
  QuotaConfig,
  RateLimitConfig,
  RateLimitConfigArg,
  SlidingWindowConfig,
  TokenBucketConfig,
} from "../model.js";
import type { Projection } from "../projection.js";
import { exactSlidingWindow, vExactWindowState } from "./exactSlidingWindow.js";
import { fixedWindow, vFixedWindowState } from "./fixedWindow.js";
import { quota, vQuotaState } from "./quota.js";
import { slidingWindow, vSlidingWindowState } from "./slidingWindow.js";
import { tokenBucket, vTokenBucketState } from "./tokenBucket.js";
import type { Algorithm, ConfiguredOptions, Engine } from "./types.js";

export type { Algorithm, Engine, ShardConfig } from "./types.js";

type Fields = Record<string, Validator<any, "required", any>>;

/** Each of `fields`, optional. */
function optional<F extends Fields>(fields: F): { [K in keyof F]: VOptional<F[K]> } {
  return Object.fromEntries(Object.entries(fields).map(([k, x]) => [k, v.optional(x)])) as {
    [K in keyof F]: VOptional<F[K]>;
  };
}

/**
 * A state as stored: a tagged union flattened into one object. `alg` is the
 * algorithm that wrote it (its `id`); the other fields are every algorithm's
 * state fields, and a state holds exactly its algorithm's (../shards.ts is
 * the one writer; a decoder reads only a state tagged with its own id, so
 * another algorithm's reads as none). Two algorithms may share a field only
 * with the same validator (test/rateLimits/math.test.ts checks it).
 *
 * Flat rather than a `v.union` of members or an object per algorithm, and
 * spread into the shard document itself (../tables.ts): a deployment reads
 * any of them alike, but convex-test, where hosts run their tests with this
 * component, throws and catches an error for each union member it tries, and
 * every nested object costs it a conversion, a copy and a validation on each
 * read and write.
 */
export const vStoredState = v.object({
  alg: v.string(),
  ...optional(vTokenBucketState.fields),
  ...optional(vFixedWindowState.fields),
  ...optional(vSlidingWindowState.fields),
  ...optional(vExactWindowState.fields),
  ...optional(vQuotaState.fields),
});
export type StoredState = Infer<typeof vStoredState>;
/** A state's fields as a shard document holds them: all absent when it has no state. */
export type StoredFields = Partial<StoredState>;

/** The state fields of a shard document (../tables.ts): `vStoredState`'s, `alg` optional too. */
export const storedStateFields = { ...vStoredState.fields, alg: v.optional(v.string()) };

/** The names of the state fields, for the writer that replaces or clears a whole state. */
export const STATE_FIELDS = Object.keys(vStoredState.fields) as (keyof StoredState)[];

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
  /** The config, typed as its kind's (checked by `normalizeConfig` before anything reads it). */
  config: RateLimitConfig;
  options: readonly string[];
  shape(name: string): { rate: number; period: number };
  configure(name: string, rate: number): ConfiguredOptions;
  reportedConfig(
    filled: { shards: number; capacity: number },
    windowStart: number | undefined,
  ): RateLimitConfig;
  /** The peer's projection (`Algorithm.peerProjection`); undefined for kinds the peer lacks. */
  peerProjection(
    existing: { value: number; ts: number } | null,
    now: number,
    count: number,
  ): Projection | undefined;
};

function bound<C extends RateLimitConfig>(alg: Algorithm<C>, config: C): Bound {
  return {
    engine: alg,
    config,
    options: alg.options,
    shape: (name) => alg.shape(config, name),
    configure: (name, rate) => alg.configure(config, name, rate),
    reportedConfig: (filled, windowStart) =>
      alg.reportedConfig?.(config, filled, windowStart) ?? { ...config, shards: filled.shards },
    peerProjection: (existing, now, count) => alg.peerProjection?.(existing, config, now, count),
  };
}

/**
 * The algorithm that serves `config`, looked up by its kind; undefined for an
 * unknown kind. A config arrives as a flat record (`vRateLimitConfigArg`);
 * its kind picks the variant type here, and `normalizeConfig` then checks
 * every field against that algorithm's options before anything reads one.
 */
export function bind(config: RateLimitConfigArg): Bound | undefined {
  switch (config.kind) {
    case "token bucket":
      return bound(tokenBucket, config as TokenBucketConfig);
    case "fixed window":
      return bound(fixedWindow, config as FixedWindowConfig);
    case "sliding window": {
      const c = config as SlidingWindowConfig;
      return bound(c.precision === "exact" ? exactSlidingWindow : slidingWindow, c);
    }
    case "quota":
      return bound(quota, config as QuotaConfig);
    default:
      return undefined;
  }
}
