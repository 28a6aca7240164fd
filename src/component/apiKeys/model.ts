import { paginationOptsValidator } from "convex/server";
import { v, type Infer } from "convex/values";
import { vRateLimitConfigArg } from "../rateLimits/model.js";

/*
 * API-key validators, declared once: component args and returns, the client's
 * types, and the table below. Nothing here ever holds a key or a secret; the
 * table holds digests, which no function returns.
 */

export const vOwner = v.object({ type: v.string(), id: v.string() });
export type ApiKeyOwner = Infer<typeof vOwner>;

export const vKeyState = v.union(v.literal("active"), v.literal("expired"), v.literal("revoked"));

/** A per-verification budget: at most `rate` per `period` ms (approximate sliding window). */
export const vDenialLimit = v.object({ rate: v.number(), period: v.number() });

/** What `list` and `get` return for one key: metadata only, never the key or its digest. */
export const vApiKeyInfo = v.object({
  keyId: v.string(),
  prefix: v.string(),
  name: v.string(),
  owner: vOwner,
  scopes: v.array(v.string()),
  state: vKeyState,
  createdAt: v.number(),
  expiresAt: v.optional(v.number()),
  revokedAt: v.optional(v.number()),
  rotatedAt: v.optional(v.number()),
  /** While a rotation's overlap lasts: when the previous key stops working. */
  previousValidUntil: v.optional(v.number()),
  /** The last successful verification in a mutation, to the minute. */
  lastUsedAt: v.optional(v.number()),
  /** When maintenance deletes this metadata (revoked or expired keys only). */
  purgeAt: v.optional(v.number()),
});
export type ApiKeyInfo = Infer<typeof vApiKeyInfo>;

export const vVerifyReason = v.union(
  v.literal("malformed"),
  v.literal("unknown"),
  v.literal("expired"),
  v.literal("revoked"),
  v.literal("scope"),
  v.literal("rate_limited"),
);
export type VerifyReason = Infer<typeof vVerifyReason>;

/** A refused key, as `verify` returns it to the host and a wrapped function returns it to its caller. */
export const vApiKeyDenial = v.object({
  ok: v.literal(false),
  reason: vVerifyReason,
  retryAfter: v.optional(v.number()),
});
export type ApiKeyDenial = Infer<typeof vApiKeyDenial>;

/** Why the component refused, for the audit event: "wrong_secret" is answered to the caller as "unknown". */
export const vDenialDetail = v.union(
  v.literal("unknown_key"),
  v.literal("wrong_secret"),
  v.literal("expired"),
  v.literal("revoked"),
  v.literal("scope"),
  v.literal("rate_limited"),
);
export type DenialDetail = Infer<typeof vDenialDetail>;

const verified = {
  ok: v.literal(true),
  keyId: v.string(),
  name: v.string(),
  owner: vOwner,
  scopes: v.array(v.string()),
};

/** The component's answer. `keyId`, `detail` and `audit` are for the client's audit event; it strips them. */
export const vComponentVerifyResult = v.union(
  v.object(verified),
  v.object({
    ok: v.literal(false),
    reason: vVerifyReason,
    retryAfter: v.optional(v.number()),
    /** The key id the caller presented (known or not): public, never the secret. */
    keyId: v.string(),
    detail: vDenialDetail,
    /** True when this denial fits the denial budget: the client logs it (when it has an audit log). */
    audit: v.boolean(),
  }),
);
export type ComponentVerifyResult = Infer<typeof vComponentVerifyResult>;

export const vCreateResult = v.object({
  keyId: v.string(),
  createdAt: v.number(),
  expiresAt: v.optional(v.number()),
});
export const vRotateResult = v.object({
  keyId: v.string(),
  rotatedAt: v.number(),
  previousValidUntil: v.number(),
});
export const vRevokeResult = v.object({ revoked: v.boolean() });
export const vRemoveResult = v.object({ removed: v.boolean() });

// ---- arguments of the public functions ----

export const createArgs = {
  keyId: v.string(),
  digest: v.string(),
  prefix: v.string(),
  name: v.string(),
  owner: vOwner,
  scopes: v.array(v.string()),
  /** The scope names the host's `ApiKeys` declares; `scopes` must be among them. */
  declaredScopes: v.array(v.string()),
  expiresAt: v.optional(v.number()),
  /** How long metadata is kept once the key is revoked or expired (ms). */
  retention: v.number(),
  maxKeysPerOwner: v.number(),
};

export const verifyArgs = {
  keyId: v.string(),
  digest: v.string(),
  scope: v.optional(v.string()),
  /** The per-key call limit, when the host sets one. */
  limit: v.optional(vRateLimitConfigArg),
  denialLimit: vDenialLimit,
  audit: v.boolean(),
};

export const rotateArgs = {
  keyId: v.string(),
  digest: v.string(),
  prefix: v.string(),
  overlap: v.number(),
};
export const keyIdArgs = { keyId: v.string() };
export const listArgs = { owner: v.optional(vOwner), paginationOpts: paginationOptsValidator };

/**
 * The argument validator of each public API-key function (../apiKeys.ts), by
 * name: what the host's client checks a call against before making it,
 * without importing the functions themselves into the host's bundle.
 */
export const apiKeyArgs = {
  create: createArgs,
  verify: verifyArgs,
  check: verifyArgs,
  rotate: rotateArgs,
  revoke: keyIdArgs,
  remove: keyIdArgs,
  get: keyIdArgs,
  list: listArgs,
};
