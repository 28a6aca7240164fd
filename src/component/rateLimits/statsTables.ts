import { defineTable } from "convex/server";
import { v } from "convex/values";

/** Counts of calls: the fields every stats row and aggregate carries. */
export const countFields = { allowed: v.number(), denied: v.number(), consumed: v.number() };

/**
 * Usage stats of limits with `stats: true` (see ./stats.ts). Rows are
 * appended by `limit` (a denial, or a key's closed hour) and never changed;
 * the maintenance pass folds them into the hourly aggregates and deletes
 * them. `hour` is the start of a UTC hour (ms since epoch).
 */
export const statsTables = {
  rateLimitStatRows: defineTable({
    name: v.string(),
    key: v.string(),
    hour: v.number(),
    ...countFields,
    at: v.commitTs(),
  })
    .index("by_at", ["at"])
    .index("by_hour", ["hour"]),
  // Per (name, hour): what `stats` without a key reads.
  rateLimitStatsByName: defineTable({ name: v.string(), hour: v.number(), ...countFields })
    .index("by_name_hour", ["name", "hour"])
    .index("by_hour", ["hour"]),
  // Per (name, key, hour): a key's stats and the top denied keys of an hour.
  rateLimitStatsByKey: defineTable({
    name: v.string(),
    key: v.string(),
    hour: v.number(),
    ...countFields,
  })
    .index("by_name_key_hour", ["name", "key", "hour"])
    .index("by_name_hour_denied", ["name", "hour", "denied"])
    .index("by_hour", ["hour"]),
};
