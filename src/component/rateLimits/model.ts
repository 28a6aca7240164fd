import { v, type Infer } from "convex/values";

/**
 * Validators for the rate-limit functions, declared once: the component uses
 * them for `args` and `returns`, the client's `hookAPI` for the host query it
 * builds. Shapes match `@convex-dev/rate-limiter` where the peer has the field.
 */

export const vSlidingWindowConfig = v.object({
  kind: v.literal("sliding window"),
  rate: v.number(),
  period: v.number(),
  precision: v.optional(v.union(v.literal("approximate"), v.literal("exact"))),
  maxReserved: v.optional(v.number()),
  shards: v.optional(v.number()),
});

export const vTokenBucketConfig = v.object({
  kind: v.literal("token bucket"),
  rate: v.number(),
  period: v.number(),
  capacity: v.optional(v.number()),
  maxReserved: v.optional(v.number()),
  shards: v.optional(v.number()),
});

export const vFixedWindowConfig = v.object({
  kind: v.literal("fixed window"),
  rate: v.number(),
  period: v.number(),
  capacity: v.optional(v.number()),
  maxReserved: v.optional(v.number()),
  shards: v.optional(v.number()),
  start: v.optional(v.number()),
});

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- only its type is used
const vRateLimitConfigUnion = v.union(vSlidingWindowConfig, vTokenBucketConfig, vFixedWindowConfig);

/*
 * Why some runtime validators are flat objects typed as unions: convex-test
 * checks a union by trying each member and throwing on each miss (about
 * 20 µs per miss, the largest single cost of a `limit` call there; a real
 * deployment validates in the backend). So the runtime validator is one
 * object with every kind's fields and no unions inside; the static type (and
 * `ComponentApi`) stays the exact union. What the flat shape lets through,
 * `normalizeConfig` rejects with INVALID_CONFIG: an unknown `kind` or
 * `precision`, and a field the kind does not have.
 */
const vRateLimitConfigFlat = v.object({
  kind: v.string(),
  rate: v.number(),
  period: v.number(),
  precision: v.optional(v.string()),
  capacity: v.optional(v.number()),
  maxReserved: v.optional(v.number()),
  shards: v.optional(v.number()),
  start: v.optional(v.number()),
});

export const vRateLimitConfig = vRateLimitConfigFlat as unknown as typeof vRateLimitConfigUnion;

/** `limit` and `check`. `key` omitted = one shared value for the name. */
export const limitArgs = {
  name: v.string(),
  key: v.optional(v.string()),
  count: v.optional(v.number()),
  reserve: v.optional(v.boolean()),
  throws: v.optional(v.boolean()),
  config: vRateLimitConfig,
};

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- only its type is used
const vLimitResultUnion = v.union(
  v.object({ ok: v.literal(true), retryAfter: v.optional(v.number()) }),
  v.object({ ok: v.literal(false), retryAfter: v.number() }),
);
/** Flat at runtime, exact union in types (see vRateLimitConfig). */
export const vLimitResult = v.object({
  ok: v.boolean(),
  retryAfter: v.optional(v.number()),
}) as unknown as typeof vLimitResultUnion;

export const vLimitRequest = v.object({
  name: v.string(),
  key: v.optional(v.string()),
  count: v.optional(v.number()),
  reserve: v.optional(v.boolean()),
  config: vRateLimitConfig,
});

export const limitAllArgs = { requests: v.array(vLimitRequest), throws: v.optional(v.boolean()) };

const vLimitAllItem = v.object({
  name: v.string(),
  ok: v.boolean(),
  retryAfter: v.optional(v.number()),
});

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- only its type is used
const vLimitAllResultUnion = v.union(
  v.object({
    ok: v.literal(true),
    retryAfter: v.optional(v.number()),
    results: v.array(vLimitAllItem),
  }),
  v.object({ ok: v.literal(false), retryAfter: v.number(), results: v.array(vLimitAllItem) }),
);
/** Flat at runtime, exact union in types (see vRateLimitConfig). */
export const vLimitAllResult = v.object({
  ok: v.boolean(),
  retryAfter: v.optional(v.number()),
  results: v.array(vLimitAllItem),
}) as unknown as typeof vLimitAllResultUnion;

export const resetArgs = { name: v.string(), key: v.optional(v.string()) };

export const creditArgs = {
  name: v.string(),
  key: v.optional(v.string()),
  count: v.number(),
  config: vRateLimitConfig,
};
export const vCreditResult = v.object({ credited: v.number() });

export const getValueArgs = {
  name: v.string(),
  key: v.optional(v.string()),
  sampleShards: v.optional(v.number()),
  config: vRateLimitConfig,
};

/** A shard's stored state (see `RateLimitState`). */
export const vRateLimitState = v.object({
  value: v.number(),
  ts: v.number(),
  prev: v.optional(v.number()),
  log: v.optional(v.array(v.number())),
});

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
});

export type LimitResult = Infer<typeof vLimitResult>;
export type LimitAllResult = Infer<typeof vLimitAllResult>;
export type GetValueResult = Infer<typeof vGetValueResult>;
