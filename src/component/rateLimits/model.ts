import { paginationOptsValidator } from "convex/server";
import { v, type Infer } from "convex/values";

/**
 * Validators for the rate-limit functions, declared once, and the types
 * `Infer`'d from them: the component uses them for `args` and `returns`, the
 * client and the React hook import the types. Shapes match
 * `@convex-dev/rate-limiter` where the peer has the field.
 *
 * A config has two validators: `vRateLimitConfig`, the exact union of the
 * kinds (for the `RateLimitConfig` type, stored configs and returned ones),
 * and `vRateLimitConfigArg`, the one functions take as an argument (see there).
 */

/**
 * "transactionally" (default): each call reads and writes the limit's state in
 * the caller's transaction. "asynchronously": for hot keys; a call decides on
 * a stale snapshot (no read dependency), appends its consumption, and the
 * maintenance loop folds it into the state (see docs/rate-limits.md). Not
 * with shards, nor with the exact sliding window.
 */
export const vApplyUpdates = v.union(v.literal("transactionally"), v.literal("asynchronously"));

/** Fields every kind shares: how much may be reserved ahead, sharding, usage stats. */
const sharedFields = {
  maxReserved: v.optional(v.number()),
  shards: v.optional(v.number()),
  /** Count calls for `stats` (allowed, denied, consumed per hour). Off by default. */
  stats: v.optional(v.boolean()),
};

/** Fields of the token-based kinds (token bucket, fixed window), as the peer names them. */
const tokenFields = {
  rate: v.number(),
  period: v.number(),
  capacity: v.optional(v.number()),
  ...sharedFields,
  applyUpdates: v.optional(vApplyUpdates),
};

export const vTokenBucketConfig = v.object({
  kind: v.literal("token bucket"),
  ...tokenFields,
  /** Accepted for `@convex-dev/rate-limiter` configs: a token bucket has no window to align. */
  start: v.optional(v.null()),
});

export const vFixedWindowConfig = v.object({
  kind: v.literal("fixed window"),
  ...tokenFields,
  /** Window alignment in ms since epoch; per key (a hash of name and key) by default. */
  start: v.optional(v.number()),
});

export const vSlidingWindowConfig = v.object({
  kind: v.literal("sliding window"),
  rate: v.number(),
  period: v.number(),
  /** "approximate" (default): compressed admission log, at most rate + rate/100 in any period. "exact": one entry per admission, rate <= 1000. */
  precision: v.optional(v.union(v.literal("approximate"), v.literal("exact"))),
  ...sharedFields,
  applyUpdates: v.optional(vApplyUpdates),
});

/** At most `limit` per calendar hour, day, week or month in a time zone. */
export const vQuotaConfig = v.object({
  kind: v.literal("quota"),
  limit: v.number(),
  per: v.union(v.literal("hour"), v.literal("day"), v.literal("week"), v.literal("month")),
  /** IANA zone name, e.g. "America/New_York"; "UTC" by default. */
  timeZone: v.optional(v.string()),
  /** Weeks only: 0 = Sunday ... 6 = Saturday; 1 (Monday) by default. */
  weekStartsOn: v.optional(v.number()),
  ...sharedFields,
  applyUpdates: v.optional(vApplyUpdates),
});

export const vRateLimitConfig = v.union(
  vTokenBucketConfig,
  vFixedWindowConfig,
  vSlidingWindowConfig,
  vQuotaConfig,
);

/**
 * A config as a function argument: a flat object of primitive values (every
 * config is one). Which fields a kind takes, their types, literals and ranges
 * are checked by `normalizeConfig` (./config.ts), which every function runs
 * on its config before reading anything: a host that calls the component
 * directly gets the same INVALID_CONFIG naming the field as one that goes
 * through the client, where the exact union would answer with an uncoded
 * validator error that prints the arguments.
 *
 * Why not an object validator listing the fields: a deployment checks either
 * for free, but convex-test (where hosts run their tests with this component)
 * walks every field an object validator declares on every call (a few
 * percent of a `limit` call, measured) and tries a union's members in turn,
 * throwing and catching an error for each miss. A record costs it nothing.
 */
export const vRateLimitConfigArg = v.record(
  v.string(),
  v.union(v.number(), v.string(), v.boolean(), v.null()),
);
/** Optional fields: a config in memory may hold `undefined` where the record has no field. */
export type RateLimitConfigArg = Partial<Infer<typeof vRateLimitConfigArg>>;

export type TokenBucketConfig = Infer<typeof vTokenBucketConfig>;
export type FixedWindowConfig = Infer<typeof vFixedWindowConfig>;
export type SlidingWindowConfig = Infer<typeof vSlidingWindowConfig>;
export type QuotaConfig = Infer<typeof vQuotaConfig>;
export type RateLimitConfig = Infer<typeof vRateLimitConfig>;

/** `retryAfter` is in ms from now: the earliest time the same call would succeed. */
export const vLimitResult = v.union(
  v.object({ ok: v.literal(true), retryAfter: v.optional(v.number()) }),
  /** `reason: "blocked"`: the key is blocked (`block`) until `retryAfter` from now. */
  v.object({
    ok: v.literal(false),
    retryAfter: v.number(),
    reason: v.optional(v.literal("blocked")),
  }),
);
export type RateLimitResult = Infer<typeof vLimitResult>;

/** `limit` and `check`. `key` omitted = one shared value for the name. */
export const limitArgs = {
  name: v.string(),
  key: v.optional(v.string()),
  count: v.optional(v.number()),
  reserve: v.optional(v.boolean()),
  throws: v.optional(v.boolean()),
  config: vRateLimitConfigArg,
};

export const vLimitRequest = v.object({
  name: v.string(),
  key: v.optional(v.string()),
  count: v.optional(v.number()),
  reserve: v.optional(v.boolean()),
  config: vRateLimitConfigArg,
});

export const limitAllArgs = { requests: v.array(vLimitRequest), throws: v.optional(v.boolean()) };

const vLimitAllItem = v.union(
  v.object({ name: v.string(), ok: v.literal(true), retryAfter: v.optional(v.number()) }),
  v.object({
    name: v.string(),
    ok: v.literal(false),
    retryAfter: v.number(),
    reason: v.optional(v.literal("blocked")),
  }),
);

export const vLimitAllResult = v.union(
  v.object({
    ok: v.literal(true),
    retryAfter: v.optional(v.number()),
    results: v.array(vLimitAllItem),
  }),
  v.object({ ok: v.literal(false), retryAfter: v.number(), results: v.array(vLimitAllItem) }),
);
export type LimitAllResult = Infer<typeof vLimitAllResult>;

export const resetArgs = { name: v.string(), key: v.optional(v.string()) };

export const creditArgs = {
  name: v.string(),
  key: v.optional(v.string()),
  count: v.number(),
  config: vRateLimitConfigArg,
};
export const vCreditResult = v.object({ credited: v.number() });

export const getValueArgs = {
  name: v.string(),
  key: v.optional(v.string()),
  sampleShards: v.optional(v.number()),
  config: vRateLimitConfigArg,
};

/**
 * A shard's state as `getValue` returns it and the algorithms compute on it
 * (what is stored is each algorithm's own form, tagged `alg`: ./algorithms/index.ts).
 * `log` is the sliding windows' admission log.
 */
export const vRateLimitState = v.object({
  value: v.number(),
  ts: v.number(),
  log: v.optional(v.union(v.bytes(), v.array(v.number()))),
});
export type RateLimitState = Infer<typeof vRateLimitState>;

export const vGetValueResult = v.object({
  /** Tokens left now in the returned shard (negative while reservations are outstanding). */
  value: v.number(),
  /** The state's time: last update (token bucket), window or bucket start, last admission (exact). */
  ts: v.number(),
  /** Fixed window only: start of the current window. */
  windowStart: v.optional(v.number()),
  shard: v.number(),
  shards: v.number(),
  /** What one call can take from this shard without reserving. */
  capacity: v.number(),
  config: vRateLimitConfig,
  /** Raw state (null: no document, i.e. full), so clients can project `value` forward in time. */
  state: v.union(vRateLimitState, v.null()),
  /** The time the server computed `value` at. */
  now: v.number(),
  /** Asynchronous limits: consumption recorded but not folded into `value` yet. */
  unfolded: v.optional(v.number()),
  /** Quotas: used this period (of this shard). */
  used: v.optional(v.number()),
  /** Quotas: this shard's limit per period. */
  limit: v.optional(v.number()),
  /** Quotas: when the period ends and the quota is full again (ms since epoch). */
  resetsAt: v.optional(v.number()),
  /** Quotas: `resetsAt` as local time in the quota's zone, e.g. "2026-03-09T00:00:00-04:00". */
  resetsAtLocal: v.optional(v.string()),
  /** Set while the key is blocked (`block`): every call is denied until `until`, whatever `value` says. */
  blocked: v.optional(v.object({ until: v.number(), reason: v.optional(v.string()) })),
});
export type GetValueResult = Infer<typeof vGetValueResult>;

export const blockArgs = {
  name: v.string(),
  key: v.optional(v.string()),
  /** ms since epoch; the key is denied until then. */
  until: v.number(),
  reason: v.optional(v.string()),
  config: vRateLimitConfigArg,
};
export const unblockArgs = { name: v.string(), key: v.optional(v.string()) };
export const listBlocksArgs = { name: v.string(), paginationOpts: paginationOptsValidator };

/** `stats` arguments (read by ./statsQuery.ts). */
export const statsArgs = {
  name: v.string(),
  /** One key's stats; omitted: the whole limit, with its top denied keys. */
  key: v.optional(v.string()),
  /** ms since epoch; the hours starting in [from, to) are returned. */
  from: v.number(),
  to: v.number(),
  /** How many top denied keys (default 10, at most 25). */
  top: v.optional(v.number()),
  /** IANA zone whose midnights split `days` (default "UTC"), e.g. "America/New_York". */
  timeZone: v.optional(v.string()),
};

/**
 * The argument validator of each public rate-limit function (../rateLimits.ts),
 * by name: what the host's client checks a call against before making it,
 * without importing the functions themselves (and so the component's server
 * code) into the host's bundle.
 */
export const rateLimitArgs = {
  limit: limitArgs,
  check: limitArgs,
  limitAll: limitAllArgs,
  reset: resetArgs,
  credit: creditArgs,
  getValue: getValueArgs,
  block: blockArgs,
  unblock: unblockArgs,
  listBlocks: listBlocksArgs,
  stats: statsArgs,
};
export const vBlock = v.object({
  key: v.string(),
  until: v.number(),
  reason: v.optional(v.string()),
});
export type Block = Infer<typeof vBlock>;

/** A config's `applyUpdates` (kinds without the option are transactional). */
export function applyUpdatesOf(
  config: RateLimitConfig,
): "transactionally" | "asynchronously" | undefined {
  return "applyUpdates" in config ? config.applyUpdates : undefined;
}
