import { defineTable } from "convex/server";
import { v } from "convex/values";
import { storedStateFields, vStoredState } from "./algorithms/index.js";
import { vRateLimitConfig } from "./model.js";
import { statsTables } from "./stats.js";

/** The rate limiter's tables (see ./store.ts for who reads and writes them). */
export const rateLimitTables = {
  // One document per (name, key, shard); `key` "" is the name's shared value.
  rateLimits: defineTable({
    name: v.string(),
    key: v.string(),
    shard: v.number(),
    // The algorithm's state (`alg` and its fields, ./algorithms/index.ts), in
    // the document itself. No `alg`: no state (a document kept only for a
    // block or a reset's mark).
    ...storedStateFields,
    // After it the document equals "no document", so the sweep deletes it;
    // never before a block on it ends.
    idleAt: v.number(),
    // A block (./blocks.ts) lives on every shard document of the key, so
    // the read `limit` already makes sees it. `blockName` is set on shard 0
    // only, so `listBlocks` lists each blocked key once.
    blockedUntil: v.optional(v.number()),
    blockReason: v.optional(v.string()),
    blockName: v.optional(v.string()),
    // Asynchronous limits (./async.ts), shard 0: the commit timestamp of the
    // last pending row folded in. Set only on their documents, which never
    // schedule a sweep tick of their own (by_foldedThrough_idleAt).
    foldedThrough: v.optional(v.int64()),
    // Asynchronous limits, shard 0: the commit timestamp of the last `reset`.
    // A pending row decided on a snapshot before it never counts.
    resetAt: v.optional(v.commitTs()),
    // Until when (ms) that mark must stay: once the state is idle before it,
    // the sweep drops the state and keeps the document with its mark.
    resetUntil: v.optional(v.number()),
    // Usage stats (`stats: true`, see ./stats.ts): this shard's admitted calls
    // and tokens in the UTC hour starting at `statsHour`, carried by the write
    // the call makes anyway and flushed when the hour is over.
    statsHour: v.optional(v.number()),
    statsAllowed: v.optional(v.number()),
    statsConsumed: v.optional(v.number()),
  })
    .index("by_name_key_shard", ["name", "key", "shard"])
    .index("by_idleAt", ["idleAt"])
    .index("by_foldedThrough_idleAt", ["foldedThrough", "idleAt"])
    .index("by_block", ["blockName", "blockedUntil"])
    .index("by_statsHour", ["statsHour"]),
  // Consumption of admitted asynchronous calls, appended by the call and
  // folded into `rateLimits` (shard 0) by the maintenance pass in commit
  // order, then deleted. `at`: the commit timestamp; `ts`: the call's clock;
  // `logAt`: a reservation's time, when its work may run (windows log it then);
  // `upTo`: the snapshot the call decided on; `applied`: the state with every
  // consumption committed by then applied, so a later call starts from the
  // newest of them (./async.ts).
  rateLimitPending: defineTable({
    name: v.string(),
    key: v.string(),
    count: v.number(),
    ts: v.number(),
    logAt: v.optional(v.number()),
    config: vRateLimitConfig,
    at: v.commitTs(),
    upTo: v.int64(),
    applied: v.union(vStoredState, v.null()),
  })
    .index("by_name_key_at", ["name", "key", "at"])
    .index("by_name_key_upTo", ["name", "key", "upTo"])
    .index("by_at", ["at"]),
  ...statsTables,
};
