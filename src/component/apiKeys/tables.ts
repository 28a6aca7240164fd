import { defineTable } from "convex/server";
import { v } from "convex/values";

/** The API keys' table. */
const apiKeyFields = {
  keyId: v.string(),
  prefix: v.string(),
  name: v.string(),
  ownerType: v.string(),
  ownerId: v.string(),
  scopes: v.array(v.string()),
  /** Hex SHA-256 of the framed (domain, prefix, keyId, secret) (format.ts digestSecret). */
  digest: v.string(),
  /** The digest before the last rotation, valid until previousValidUntil. */
  previousDigest: v.optional(v.string()),
  previousValidUntil: v.optional(v.number()),
  createdAt: v.number(),
  expiresAt: v.optional(v.number()),
  revokedAt: v.optional(v.number()),
  rotatedAt: v.optional(v.number()),
  lastUsedAt: v.optional(v.number()),
  /** How long metadata is kept once the key stops working (ms). */
  retention: v.number(),
  /** (revokedAt or expiresAt) + retention; unset while the key can still work. */
  purgeAt: v.optional(v.number()),
};

/**
 * The tables of this capability, spread into the component's schema. One row
 * per key; `verify` reads it by `keyId` and writes it at most once a minute
 * (lastUsedAt), so a busy key is not a hot document.
 */
export const apiKeyTables = {
  apiKeys: defineTable(apiKeyFields)
    .index("by_keyId", ["keyId"])
    .index("by_owner", ["ownerType", "ownerId"])
    .index("by_purgeAt", ["purgeAt"]),
};
