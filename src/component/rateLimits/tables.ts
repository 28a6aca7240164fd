import { defineTable } from "convex/server";
import { v } from "convex/values";
import { vRateLimitConfig } from "./model.js";

/** The rate limiter's tables. */
export const rateLimitTables = {
  // One document per (name, key, shard); `key` "" is the name's shared value.
  // State per algorithm: see each file in ./algorithms/.
  // `idleAt`: after it the state equals "no document", so the sweep deletes it.
  rateLimits: defineTable({
    name: v.string(),
    key: v.string(),
    shard: v.number(),
    value: v.number(),
    ts: v.number(),
    prev: v.optional(v.number()),
    log: v.optional(v.array(v.number())),
    idleAt: v.number(),
  })
    .index("by_name_key_shard", ["name", "key", "shard"])
    .index("by_idleAt", ["idleAt"]),
  // Consumption of asynchronous limits, appended by `limit` and folded into
  // `rateLimits` (shard 0) by the maintenance pass in commit order, then
  // deleted. `at` is the commit timestamp; `ts` the call's clock.
  rateLimitPending: defineTable({
    name: v.string(),
    key: v.string(),
    count: v.number(),
    ts: v.number(),
    config: vRateLimitConfig,
    at: v.commitTs(),
  })
    .index("by_name_key_at", ["name", "key", "at"])
    .index("by_at", ["at"]),
};
