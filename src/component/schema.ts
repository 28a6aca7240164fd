import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { sealFields as auditSealFields, storedEventFields as auditEventFields } from "../shared/auditModel.js";

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
  // One document per (name, key, shard); `key` "" is the name's shared value.
  // State per algorithm: see RateLimitState in src/shared/rateLimitMath.ts.
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

  // ---- audit log (audit.ts) ----
  // Events are written by `log` alone (no shared row is read or written);
  // `seq` stays unset until the maintenance loop seals the event. Every list
  // filter has its own index ending in recordedAt, so a page reads only the
  // rows it returns. `tenantKey` is "" for events without a tenant.
  auditEvents: defineTable({
    ...auditEventFields,
    actorKey: v.string(),
    tenantKey: v.string(),
    inputHash: v.optional(v.string()),
  })
    .index("by_seq", ["seq"])
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
    payloadHash: v.string(),
    retainedAt: v.number(),
  }).index("by_seq", ["seq"]),
  // The seal chain: seal n covers events fromSeq..toSeq (empty when
  // toSeq < fromSeq), root is their Merkle root, hash chains to seal n-1.
  auditSeals: defineTable(auditSealFields)
    .index("by_n", ["n"])
    .index("by_toSeq", ["toSeq"]),

  // ---- confirmation codes (codes.ts) ----
  // One row per (subject, action): issuing again patches it, so the failure
  // count carries over to the new code. Holds MACs only, never a code or the
  // secret. Rows are deleted once `expiresAt` passes (consumed and revoked
  // ones too: until then they answer "used" and keep the failure count).
  confirmationCodes: defineTable({
    subject: v.string(),
    action: v.string(),
    /** Public id of the current code (128 random bits, hex); part of the MAC input. */
    codeId: v.string(),
    /** MAC encoding version (codeCrypto.MAC_VERSION). */
    version: v.number(),
    /** HMAC-SHA-256(secret, version | codeId | subject | action | payloadDigest | code), hex. */
    mac: v.string(),
    /** HMAC-SHA-256(secret, payload domain | codeId | subject | action | payloadDigest), hex. */
    payloadMac: v.string(),
    alphabet: v.union(v.literal("digits"), v.literal("alphanumeric")),
    length: v.number(),
    state: v.union(v.literal("pending"), v.literal("consumed"), v.literal("revoked"), v.literal("locked")),
    failures: v.number(),
    maxAttempts: v.number(),
    issuedAt: v.number(),
    expiresAt: v.number(),
  })
    .index("by_subject_action", ["subject", "action"])
    .index("by_expiresAt", ["expiresAt"]),
});
