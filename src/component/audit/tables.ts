import { defineTable } from "convex/server";
import { v } from "convex/values";
import { vStoredEvent, vStoredSeal } from "./model.js";

/** The audit log's tables. */
export const auditTables = {
  // Events are written by `log` alone (no shared row is read or written);
  // `seq` stays unset until the sealer seals the event; `commitTs` (the
  // commit timestamp) orders unsealed events in `by_seq` for the sealer. Every list
  // filter has its own index ending in recordedAt, so a page reads only the
  // rows it returns. `tenantKey` is "" for events without a tenant.
  auditEvents: defineTable({
    ...vStoredEvent.fields,
    actorKey: v.string(),
    tenantKey: v.string(),
  })
    .index("by_seq", ["seq", "commitTs"])
    .index("by_tenant_eventId", ["tenantKey", "eventId"])
    .index("by_retainUntil", ["retainUntil"])
    .index("by_time", ["recordedAt"])
    .index("by_tenant_time", ["tenantKey", "recordedAt"])
    .index("by_actor", ["actorKey", "recordedAt"])
    .index("by_tenant_actor", ["tenantKey", "actorKey", "recordedAt"])
    .index("by_action", ["action", "recordedAt"])
    .index("by_tenant_action", ["tenantKey", "action", "recordedAt"])
    .index("by_outcome", ["outcome", "recordedAt"])
    .index("by_tenant_outcome", ["tenantKey", "outcome", "recordedAt"]),
  // One row per (event, target): serves list({ target }) by index.
  auditTargets: defineTable({
    event: v.id("auditEvents"),
    targetKey: v.string(),
    tenantKey: v.string(),
    recordedAt: v.number(),
  })
    .index("by_event", ["event"])
    .index("by_target", ["targetKey", "recordedAt"])
    .index("by_tenant_target", ["tenantKey", "targetKey", "recordedAt"]),
  // Values and salts of redacted fields; erasure deletes the row, the
  // commitments in the event (and so every hash) stay valid.
  auditSecrets: defineTable({
    event: v.id("auditEvents"),
    values: v.array(v.object({ path: v.string(), salt: v.string(), value: v.any() })),
    /**
     * After erasure (a tombstone): the `guard.audit.erase` event that emptied
     * `values`, and its commit timestamp (the same transaction), which finds
     * its stub once retention deleted it.
     */
    erased: v.optional(v.object({ by: v.id("auditEvents"), commitTs: v.commitTs() })),
  }).index("by_event", ["event"]),
  // Which subjects (actor, targets) a secrets row concerns, for erase().
  auditSecretRefs: defineTable({
    subjectKey: v.string(),
    secret: v.id("auditSecrets"),
  })
    .index("by_subject", ["subjectKey"])
    .index("by_secret", ["secret"]),
  // What retention keeps of an event: enough to rebuild its leaf hash.
  auditRetained: defineTable({
    seq: v.number(),
    recordedAt: v.number(),
    retainUntil: v.number(),
    /** The salted payload digest (the salt went with the payload). */
    payloadHash: v.string(),
    /** The event's commit timestamp, covered by its seal's `commits`. */
    commitTs: v.int64(),
  })
    .index("by_seq", ["seq"])
    .index("by_commitTs", ["commitTs"]),
  // Unsealed events the sealer could not seal (malformed, edited, back-dated):
  // sealed around, kept as evidence, reported by verify.
  auditSetAside: defineTable({
    event: v.id("auditEvents"),
    reason: v.string(),
    at: v.number(),
  }).index("by_event", ["event"]),
  // The seal chain: seal n covers events fromSeq..toSeq (empty when
  // toSeq < fromSeq), root is their Merkle root, hash chains to seal n-1.
  auditSeals: defineTable(vStoredSeal).index("by_n", ["n"]).index("by_toSeq", ["toSeq"]),
};
