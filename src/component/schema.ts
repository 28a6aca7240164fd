import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

// One section per capability. Each module owns the tables of its section.
export default defineSchema({
  // ---- maintenance (maintenance.ts) ----
  // A single row, written once when the maintenance loop first starts. Insert
  // paths read it to know the loop runs; since nothing writes it afterwards,
  // that read never causes an optimistic-concurrency conflict.
  guardState: defineTable({
    kind: v.literal("maintenance"),
    startedAt: v.number(),
  }).index("by_kind", ["kind"]),

  // ---- rate limits (rateLimits.ts) ----
  rateLimits: defineTable({
    name: v.string(),
    key: v.string(),
    shard: v.number(),
    value: v.number(),
    ts: v.number(),
    idleAt: v.number(),
  })
    .index("by_name_key_shard", ["name", "key", "shard"])
    .index("by_idleAt", ["idleAt"]),

  // ---- audit log (audit.ts) ----
  auditEvents: defineTable({
    action: v.string(),
    recordedAt: v.number(),
    leafHash: v.string(),
    seq: v.optional(v.number()),
  }).index("by_seq", ["seq"]),

  // ---- confirmation codes (codes.ts) ----
  confirmationCodes: defineTable({
    subject: v.string(),
    action: v.string(),
    mac: v.string(),
    expiresAt: v.number(),
  })
    .index("by_subject_action", ["subject", "action"])
    .index("by_expiresAt", ["expiresAt"]),
});
