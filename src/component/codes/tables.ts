import { defineTable } from "convex/server";
import { v } from "convex/values";

/** The confirmation codes' table. */
export const codeTables = {
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
    state: v.union(
      v.literal("pending"),
      v.literal("consumed"),
      v.literal("revoked"),
      v.literal("locked"),
    ),
    failures: v.number(),
    maxAttempts: v.number(),
    issuedAt: v.number(),
    expiresAt: v.number(),
  })
    .index("by_subject_action", ["subject", "action"])
    .index("by_expiresAt", ["expiresAt"]),
};
