import { defineTable } from "convex/server";
import { v } from "convex/values";

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
};
