/**
 * Public rate-limit functions (hosts call them through the RateLimiter
 * client). Each reads the clock once and goes through the rate-limit store
 * (./rateLimits/store.ts); this is the one place a denied call throws for
 * `throws: true`.
 */
import { paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internalQuery, mutation, query } from "./_generated/server.js";
import { vStoredState } from "./rateLimits/algorithms/index.js";
import { rateLimitedError } from "./rateLimits/math.js";
import { blockKey, listBlockedKeys, unblockKey } from "./rateLimits/blocks.js";
import {
  blockArgs,
  creditArgs,
  getValueArgs,
  limitAllArgs,
  limitArgs,
  listBlocksArgs,
  resetArgs,
  statsArgs,
  unblockArgs,
  vBlock,
  vCreditResult,
  vGetValueResult,
  vLimitAllResult,
  vLimitResult,
  type RateLimitResult,
} from "./rateLimits/model.js";
import { readAsyncView } from "./rateLimits/async.js";
import { storedTarget } from "./rateLimits/shards.js";
import {
  consume,
  credit as creditKey,
  hostCall,
  hostTarget,
  limitAll as limitAllCalls,
  peek,
  reset as resetKey,
} from "./rateLimits/store.js";
import { getRateLimitValue } from "./rateLimits/getValue.js";
import { vStatsResult } from "./rateLimits/stats.js";
import { readStats } from "./rateLimits/statsQuery.js";

/** Consume `count` (default 1). Returns `{ ok, retryAfter }`; throws only for bad input or `throws: true`. */
export const limit = mutation({
  args: limitArgs,
  returns: vLimitResult,
  handler: async (ctx, args): Promise<RateLimitResult> => {
    const r = await consume(ctx, hostCall(args), Date.now());
    if (!r.ok && args.throws) throw rateLimitedError(args.name, r.retryAfter, r.reason);
    return r;
  },
});

/** Would `limit` with these arguments succeed now? Consumes nothing. */
export const check = query({
  args: limitArgs,
  returns: vLimitResult,
  handler: async (ctx, { throws, ...args }): Promise<RateLimitResult> => {
    const r = await peek(ctx, hostCall(args), Date.now());
    if (!r.ok && throws) throw rateLimitedError(args.name, r.retryAfter, r.reason);
    return r;
  },
});

/**
 * An asynchronous limit's view of a key on the snapshot this query reads
 * (the store runs it on a stale snapshot, so it adds nothing to the calling
 * mutation's read set). Internal: `name` and `key` are already checked.
 */
export const asyncView = internalQuery({
  args: { name: v.string(), key: v.string() },
  returns: v.object({
    folded: v.union(vStoredState, v.null()),
    blockedUntil: v.optional(v.number()),
    blockReason: v.optional(v.string()),
    base: v.union(vStoredState, v.null()),
    rows: v.array(v.object({ count: v.number(), ts: v.number(), logAt: v.optional(v.number()) })),
    upTo: v.int64(),
  }),
  handler: async (ctx, args) => readAsyncView(ctx.db, storedTarget(args), ctx.meta.getSnapshotTs()),
});

/**
 * All or nothing: consumes every request if each would be admitted, else
 * nothing. `retryAfter` when denied is the latest of the denials (each limit
 * is independent: duplicate (name, key) pairs are rejected).
 */
export const limitAll = mutation({
  args: limitAllArgs,
  returns: vLimitAllResult,
  handler: async (ctx, args) => {
    const decision = await limitAllCalls(ctx, args.requests, Date.now());
    if (decision.ok) return decision;
    const { denied, ...r } = decision;
    if (args.throws) throw rateLimitedError(denied, r.retryAfter);
    return r;
  },
});

/**
 * Deletes the state of (name, key) on every shard: the next call starts
 * fresh, and a call decided before the reset never counts after it. Keeps a
 * block (only `unblock` lifts one).
 */
export const reset = mutation({
  args: resetArgs,
  returns: v.null(),
  handler: async (ctx, args) => {
    await resetKey(ctx, hostTarget(args.name, args.key), Date.now());
    return null;
  },
});

/**
 * Gives back up to `count` unused tokens (after reserve-then-settle). Never
 * raises a shard above its capacity; touches at most two shards. Returns how
 * much was credited.
 */
export const credit = mutation({
  args: creditArgs,
  returns: vCreditResult,
  handler: async (ctx, args) =>
    creditKey(ctx, hostTarget(args.name, args.key), args.config, args.count, Date.now()),
});

/**
 * Remaining value, state and config, for dashboards and the React hook.
 * Samples `sampleShards` (default 1) random shards and returns the fullest.
 */
export const getValue = query({
  args: getValueArgs,
  returns: vGetValueResult,
  handler: async (ctx, args) => getRateLimitValue(ctx, args, Date.now()),
});

/** Denies (name, key) until `until` with `reason: "blocked"`; a later block replaces an earlier one. */
export const block = mutation({
  args: blockArgs,
  returns: v.null(),
  handler: async (ctx, args) => blockKey(ctx, args, Date.now()),
});

/** Lifts a block; `unblocked` is false if the key was not blocked. */
export const unblock = mutation({
  args: unblockArgs,
  returns: v.object({ unblocked: v.boolean() }),
  handler: async (ctx, args) => unblockKey(ctx, args, Date.now()),
});

/** The keys of a limit blocked now, soonest to end first (paginated). */
export const listBlocks = query({
  args: listBlocksArgs,
  returns: paginationResultValidator(vBlock),
  handler: async (ctx, args) => listBlockedKeys(ctx, args, Date.now()),
});

/**
 * Allowed, denied and consumed counts per hour and per day (of `timeZone`, UTC by default) of a limit with
 * `stats: true`, for one key or the whole limit with its top denied keys.
 */
export const stats = query({
  args: statsArgs,
  returns: vStatsResult,
  handler: async (ctx, args) => readStats(ctx, args, Date.now()),
});
