/**
 * Public rate-limit functions (hosts call them through the RateLimiter
 * client). Each reads the clock once, validates through ./rateLimits/store.ts
 * and is the one place a denied call throws for `throws: true`.
 */
import { paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { internalQuery, mutation, query } from "./_generated/server.js";
import { rateLimitedError } from "./rateLimits/math.js";
import { blockKey, listBlockedKeys, unblockKey } from "./rateLimits/blocks.js";
import {
  applyUpdatesOf,
  blockArgs,
  creditArgs,
  getValueArgs,
  limitAllArgs,
  limitArgs,
  listBlocksArgs,
  resetArgs,
  unblockArgs,
  vBlock,
  vCreditResult,
  vGetValueResult,
  vLimitAllResult,
  vLimitResult,
  vRateLimitState,
  type RateLimitResult,
} from "./rateLimits/model.js";
import { creditRateLimit, resetPublic } from "./rateLimits/lifecycle.js";
import {
  consumeRateLimit,
  fromPublic,
  limitAllRequests,
  peekAsyncStale,
  peekRateLimit,
  recordAsync,
} from "./rateLimits/store.js";
import { getRateLimitValue } from "./rateLimits/getValue.js";
import { recordDenied } from "./rateLimits/stats.js";
import { statsArgs, vStatsResult } from "./rateLimits/statsModel.js";
import { readStats } from "./rateLimits/statsQuery.js";

/** Consume `count` (default 1). Returns `{ ok, retryAfter }`; throws only for bad input or `throws: true`. */
export const limit = mutation({
  args: limitArgs,
  returns: vLimitResult,
  handler: async (ctx, { throws, ...args }): Promise<RateLimitResult> => {
    const now = Date.now();
    let r: RateLimitResult;
    if (applyUpdatesOf(args.config) === "asynchronously") {
      // Decide on a stale snapshot (no read dependency), then append.
      const peeked = await ctx.runQuery(internal.rateLimits.checkAsync, args, {
        useStaleSnapshot: true,
      });
      r = peeked.result;
      if (r.ok) await recordAsync(ctx, fromPublic(args), now, peeked.link);
      else {
        const call = { stats: args.config.stats, count: args.count ?? 1 };
        await recordDenied(ctx, fromPublic(args), call, now);
      }
    } else {
      r = await consumeRateLimit(ctx, fromPublic(args), now);
    }
    if (!r.ok && throws) throw rateLimitedError(args.name, r.retryAfter, r.reason);
    return r;
  },
});

/** Would `limit` with these arguments succeed now? Consumes nothing. */
export const check = query({
  args: limitArgs,
  returns: vLimitResult,
  handler: async (ctx, { throws, ...args }): Promise<RateLimitResult> => {
    const r = await peekRateLimit(ctx, fromPublic(args), Date.now());
    if (!r.ok && throws) throw rateLimitedError(args.name, r.retryAfter, r.reason);
    return r;
  },
});

/**
 * `check` of an asynchronous limit, as `limit` runs it on a stale snapshot:
 * also returns what the admitted call's pending row records for later calls.
 */
export const checkAsync = internalQuery({
  args: limitArgs,
  returns: v.object({
    result: vLimitResult,
    link: v.optional(v.object({ upTo: v.int64(), applied: v.union(vRateLimitState, v.null()) })),
  }),
  handler: async (ctx, { throws: _throws, ...args }) =>
    peekAsyncStale(ctx, fromPublic(args), Date.now()),
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
    const { denied, ...r } = await limitAllRequests(ctx, args.requests, Date.now());
    if (!r.ok && args.throws) throw rateLimitedError(denied!, r.retryAfter);
    return r;
  },
});

/** Deletes the state of (name, key) on every shard: the next call starts fresh. */
export const reset = mutation({
  args: resetArgs,
  returns: v.null(),
  handler: async (ctx, args) => {
    await resetPublic(ctx, args);
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
  handler: async (ctx, args) => creditRateLimit(ctx, args, Date.now()),
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

/** The server's clock, for the React hook to correct client clock skew. */
export const getServerTime = mutation({
  args: {},
  returns: v.number(),
  handler: async () => Date.now(),
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
