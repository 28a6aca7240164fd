import { defineTable } from "convex/server";
import { v } from "convex/values";
import { vRateLimitConfig, vRateLimitState } from "./model.js";
import { statsTables } from "./statsTables.js";

/** The rate limiter's tables. */
export const rateLimitTables = {
  // One document per (name, key, shard); `key` "" is the name's shared value.
  // State per algorithm: see each file in ./algorithms/.
  // `idleAt`: after it the state equals "no document", so the sweep deletes it.
  // `folded`: asynchronous limits only, the consumption folded into the state
  // so far; their documents never wake the loop for the sweep on their own
  // (by_folded_idleAt finds the others' earliest idleAt).
  rateLimits: defineTable({
    name: v.string(),
    key: v.string(),
    shard: v.number(),
    value: v.number(),
    ts: v.number(),
    prev: v.optional(v.number()),
    log: v.optional(v.union(v.bytes(), v.array(v.number()))),
    idleAt: v.number(),
    // A block (see ./blocks.ts) lives on every shard document of the key, so
    // the read `limit` already makes sees it. `blockName` is set on shard 0
    // only, so `listBlocks` lists each blocked key once.
    blockedUntil: v.optional(v.number()),
    blockReason: v.optional(v.string()),
    blockName: v.optional(v.string()),
    folded: v.optional(v.number()),
    // Asynchronous limits: the largest `at` of the pending rows folded in (./async.ts).
    foldedThrough: v.optional(v.int64()),
    // Usage stats (`stats: true`, see ./stats.ts): this shard's admitted calls
    // and tokens in the UTC hour starting at `statsHour`, carried by the write
    // the call makes anyway and flushed when the hour is over.
    statsHour: v.optional(v.number()),
    statsAllowed: v.optional(v.number()),
    statsConsumed: v.optional(v.number()),
  })
    .index("by_name_key_shard", ["name", "key", "shard"])
    .index("by_idleAt", ["idleAt"])
    .index("by_folded_idleAt", ["folded", "idleAt"])
    .index("by_block", ["blockName", "blockedUntil"])
    .index("by_statsHour", ["statsHour"]),
  // Consumption of asynchronous limits, appended by `limit` and folded into
  // `rateLimits` (shard 0) by the maintenance pass in commit order, then
  // deleted. `at` is the commit timestamp; `ts` the call's clock. `upTo` and
  // `applied` (absent on rows written before they existed): the snapshot the
  // call decided on, and the state with every consumption committed by then
  // applied, so a later call starts from the newest of them (./async.ts).
  rateLimitPending: defineTable({
    name: v.string(),
    key: v.string(),
    count: v.number(),
    ts: v.number(),
    config: vRateLimitConfig,
    at: v.commitTs(),
    upTo: v.optional(v.int64()),
    applied: v.optional(v.union(vRateLimitState, v.null())),
  })
    .index("by_name_key_at", ["name", "key", "at"])
    .index("by_name_key_upTo", ["name", "key", "upTo"])
    .index("by_at", ["at"]),
  ...statsTables,
};
