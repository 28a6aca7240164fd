import { defineTable } from "convex/server";
import { v } from "convex/values";

/** The maintenance loop's tables. */
export const maintenanceTables = {
  // A single row, written once when the maintenance loop first starts. Insert
  // paths read it to know the loop runs; since nothing writes it afterwards,
  // that read never causes an optimistic-concurrency conflict.
  guardState: defineTable({
    kind: v.literal("maintenance"),
    startedAt: v.number(),
  }).index("by_kind", ["kind"]),
};
