import { defineTable } from "convex/server";
import { v } from "convex/values";
import { vCodeState } from "./model.js";

/** The confirmation codes' table. */
export const codeTables = {
  // One row per (subject, action): issuing again patches it, so the failure
  // count carries over to the new code. Holds salted digests of the host's
  // MACs only, never a code, a MAC or the secret. Rows are deleted once `expiresAt` passes (consumed and revoked
  // ones too: until then they answer "used" and keep the failure count).
  confirmationCodes: defineTable({
    subject: v.string(),
    action: v.string(),
    /** Public id of the current code (128 random bits, hex); salts both verifiers. */
    codeId: v.string(),
    /** MAC encoding version (codes/crypto.ts MAC_VERSION). */
    version: v.number(),
    /** SHA-256(domain | codeId | codeMac), hex; codeMac is the host's HMAC of the code. */
    codeVerifier: v.string(),
    /** SHA-256(domain | codeId | payloadMac), hex; payloadMac is the host's code-free HMAC. */
    payloadVerifier: v.string(),
    state: vCodeState,
    failures: v.number(),
    maxAttempts: v.number(),
    issuedAt: v.number(),
    expiresAt: v.number(),
    /** expiresAt + the grace during which it still answers "expired"/"used"; then swept. */
    deleteAt: v.number(),
  })
    .index("by_subject_action", ["subject", "action"])
    .index("by_deleteAt", ["deleteAt"]),
};
