import { v } from "convex/values";
import { paginationResultValidator } from "convex/server";
import { mutation, query } from "./_generated/server.js";
import {
  createArgs,
  keyIdArgs,
  listArgs,
  rotateArgs,
  vApiKeyInfo,
  vComponentVerifyResult,
  vCreateResult,
  vRemoveResult,
  vRevokeResult,
  vRotateResult,
  verifyArgs,
} from "./apiKeys/model.js";
import { createKey, getKey, listKeys, removeKey, revokeKey, rotateKey } from "./apiKeys/admin.js";

// The maintenance pass (metadata of keys revoked or expired `retention` ago) and when it is next due.
export { maintainApiKeys, nextApiKeyDue } from "./apiKeys/retention.js";
import { verifyInMutation, verifyInQuery } from "./apiKeys/verify.js";

/*
 * Service API keys: thin public functions over apiKeys/. The host's `ApiKeys`
 * client generates keys and digests secrets itself; these functions receive
 * key ids and SHA-256 digests only, never a key. Each reads Date.now() once.
 */

/** Stores a new key's digest and metadata. Throws for bad input, a taken key id or a full owner. */
export const create = mutation({
  args: createArgs,
  returns: vCreateResult,
  handler: async (ctx, args) => createKey(ctx, args, Date.now()),
});

/**
 * Verifies a key id and digest in a mutation: consumes the per-key limit,
 * counts denials, records lastUsedAt (at most once a minute). Every denial is
 * returned; throws only for malformed arguments.
 */
export const verify = mutation({
  args: verifyArgs,
  returns: vComponentVerifyResult,
  handler: async (ctx, args) => verifyInMutation(ctx, args, Date.now()),
});

/** The same check, read-only: for queries. The per-key limit is checked, not consumed. */
export const check = query({
  args: verifyArgs,
  returns: vComponentVerifyResult,
  handler: async (ctx, args) => verifyInQuery(ctx, args, Date.now()),
});

/** Replaces a key's secret; the previous one stays valid for `overlap` ms. */
export const rotate = mutation({
  args: rotateArgs,
  returns: vRotateResult,
  handler: async (ctx, args) => rotateKey(ctx, args, Date.now()),
});

/** Revokes a key in this transaction. */
export const revoke = mutation({
  args: keyIdArgs,
  returns: vRevokeResult,
  handler: async (ctx, { keyId }) => revokeKey(ctx, keyId, Date.now()),
});

/** Deletes a key's metadata (and so the key). */
export const remove = mutation({
  args: keyIdArgs,
  returns: vRemoveResult,
  handler: async (ctx, { keyId }) => removeKey(ctx, keyId),
});

/** One key's metadata, or null. Never the key or its digest. */
export const get = query({
  args: keyIdArgs,
  returns: v.union(vApiKeyInfo, v.null()),
  handler: async (ctx, { keyId }) => getKey(ctx, keyId, Date.now()),
});

/** A page of key metadata, newest first, optionally of one owner. Never a key or a digest. */
export const list = query({
  args: listArgs,
  returns: paginationResultValidator(vApiKeyInfo),
  handler: async (ctx, args) => listKeys(ctx, args, Date.now()),
});
