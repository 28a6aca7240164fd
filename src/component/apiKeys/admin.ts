import type { PaginationOptions, PaginationResult } from "convex/server";
import type { Doc } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { sweepDue } from "../maintenance/due.js";
import { ensureMaintenance } from "../maintenance/kick.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { paginateChecked } from "../lib/paginate.js";
import { assertIntInRange } from "../lib/validate.js";
import type { ApiKeyInfo, ApiKeyOwner } from "./model.js";
import {
  MAX_DECLARED_SCOPES,
  MAX_KEY_SCOPES,
  assertDigest,
  assertExpiresAt,
  assertKeyId,
  assertKeyName,
  assertKnownScopes,
  assertMaxKeysPerOwner,
  assertOverlap,
  assertOwner,
  assertPrefix,
  assertRetention,
  assertScopeList,
  keyState,
  purgeAt,
} from "./rules.js";
import { findKey } from "./verify.js";

/*
 * What an operator does with keys: create, rotate, revoke, remove, get and
 * list. Every function validates its input before reading anything. The
 * metadata of keys that stopped working is deleted by retention.ts.
 */

export const MAX_PAGE_SIZE = 200;

export type CreateArgs = {
  keyId: string;
  digest: string;
  prefix: string;
  name: string;
  owner: ApiKeyOwner;
  scopes: string[];
  declaredScopes: string[];
  expiresAt?: number;
  retention: number;
  maxKeysPerOwner: number;
};

export function toInfo(row: Doc<"apiKeys">, now: number): ApiKeyInfo {
  const overlapping = row.previousValidUntil !== undefined && now < row.previousValidUntil;
  return {
    keyId: row.keyId,
    prefix: row.prefix,
    name: row.name,
    owner: { type: row.ownerType, id: row.ownerId },
    scopes: row.scopes,
    state: keyState(row, now),
    createdAt: row.createdAt,
    ...(row.expiresAt === undefined ? {} : { expiresAt: row.expiresAt }),
    ...(row.revokedAt === undefined ? {} : { revokedAt: row.revokedAt }),
    ...(row.rotatedAt === undefined ? {} : { rotatedAt: row.rotatedAt }),
    ...(overlapping ? { previousValidUntil: row.previousValidUntil } : {}),
    ...(row.lastUsedAt === undefined ? {} : { lastUsedAt: row.lastUsedAt }),
    ...(row.purgeAt === undefined ? {} : { purgeAt: row.purgeAt }),
  };
}

async function requireKey(ctx: QueryCtx, keyId: string): Promise<Doc<"apiKeys">> {
  assertKeyId(keyId);
  const row = await findKey(ctx.db, keyId);
  if (row === null) throw guardError(ErrorCode.NOT_FOUND, "no API key with this keyId", { keyId });
  return row;
}

export function assertCreateArgs(args: CreateArgs, now: number): void {
  assertKeyId(args.keyId);
  assertDigest(args.digest);
  assertPrefix(args.prefix);
  assertKeyName(args.name);
  assertOwner(args.owner);
  assertScopeList(args.declaredScopes, "declared scopes", MAX_DECLARED_SCOPES);
  assertScopeList(args.scopes, "scopes", MAX_KEY_SCOPES);
  assertKnownScopes(args.scopes, args.declaredScopes);
  if (args.expiresAt !== undefined) assertExpiresAt(args.expiresAt, now);
  assertRetention(args.retention);
  assertMaxKeysPerOwner(args.maxKeysPerOwner);
}

/** Stores a new key's metadata and digest. Throws ALREADY_EXISTS for a taken key id, TOO_LARGE past the owner's cap. */
export async function createKey(ctx: MutationCtx, args: CreateArgs, now: number) {
  assertCreateArgs(args, now);
  if ((await findKey(ctx.db, args.keyId)) !== null) {
    throw guardError(ErrorCode.ALREADY_EXISTS, "this keyId already exists; generate a new key", {
      keyId: args.keyId,
    });
  }
  const owned = await ctx.db
    .query("apiKeys")
    .withIndex("by_owner", (q) => q.eq("ownerType", args.owner.type).eq("ownerId", args.owner.id))
    .take(args.maxKeysPerOwner);
  if (owned.length >= args.maxKeysPerOwner) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `this owner already has ${owned.length} API keys; remove revoked ones first`,
      {
        count: owned.length,
        limit: args.maxKeysPerOwner,
      },
    );
  }
  const fields = {
    keyId: args.keyId,
    prefix: args.prefix,
    name: args.name,
    ownerType: args.owner.type,
    ownerId: args.owner.id,
    scopes: args.scopes,
    digest: args.digest,
    createdAt: now,
    retention: args.retention,
    ...(args.expiresAt === undefined ? {} : { expiresAt: args.expiresAt }),
  };
  const purge = purgeAt(fields, args.retention);
  await ctx.db.insert("apiKeys", { ...fields, ...(purge === undefined ? {} : { purgeAt: purge }) });
  if (purge !== undefined) await ensureMaintenance(ctx, now, sweepDue(purge));
  return {
    keyId: args.keyId,
    createdAt: now,
    ...(args.expiresAt === undefined ? {} : { expiresAt: args.expiresAt }),
  };
}

export type RotateArgs = { keyId: string; digest: string; prefix: string; overlap: number };

/**
 * Replaces the key's secret, keeping its id, name, owner and scopes. The
 * previous secret stays valid for `overlap` ms (only the last one: rotating
 * again ends an earlier overlap). Throws NOT_FOUND, or INVALID_ARGUMENT for a
 * revoked or expired key or one of another prefix.
 */
export async function rotateKey(ctx: MutationCtx, args: RotateArgs, now: number) {
  assertDigest(args.digest);
  assertOverlap(args.overlap);
  assertPrefix(args.prefix);
  const row = await requireKey(ctx, args.keyId);
  const state = keyState(row, now);
  if (state !== "active")
    throw guardError(ErrorCode.INVALID_ARGUMENT, `cannot rotate a ${state} key`, {
      keyId: args.keyId,
      state,
    });
  if (row.prefix !== args.prefix) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `this key has prefix "${row.prefix}", not "${args.prefix}"`,
      { keyId: args.keyId },
    );
  }
  const previousValidUntil = now + args.overlap;
  await ctx.db.patch("apiKeys", row._id, {
    digest: args.digest,
    previousDigest: args.overlap > 0 ? row.digest : undefined,
    previousValidUntil: args.overlap > 0 ? previousValidUntil : undefined,
    rotatedAt: now,
  });
  return { keyId: row.keyId, rotatedAt: now, previousValidUntil };
}

/** Revokes the key now (this transaction). `revoked: false` when it already was. Throws NOT_FOUND. */
export async function revokeKey(ctx: MutationCtx, keyId: string, now: number) {
  const row = await requireKey(ctx, keyId);
  if (row.revokedAt !== undefined) return { revoked: false };
  const revokedAt = now;
  const purge = purgeAt({ ...row, revokedAt }, row.retention);
  await ctx.db.patch("apiKeys", row._id, { revokedAt, purgeAt: purge });
  if (purge !== undefined) await ensureMaintenance(ctx, now, sweepDue(purge));
  return { revoked: true };
}

/** Deletes the key's metadata (a live key stops working at once). `removed: false` when there was none. */
export async function removeKey(ctx: MutationCtx, keyId: string) {
  assertKeyId(keyId);
  const row = await findKey(ctx.db, keyId);
  if (row === null) return { removed: false };
  await ctx.db.delete("apiKeys", row._id);
  return { removed: true };
}

export async function getKey(
  ctx: QueryCtx,
  keyId: string,
  now: number,
): Promise<ApiKeyInfo | null> {
  assertKeyId(keyId);
  const row = await findKey(ctx.db, keyId);
  return row === null ? null : toInfo(row, now);
}

/** One page of key metadata, newest first; of one owner when given. Reads only the rows it returns. */
export async function listKeys(
  ctx: QueryCtx,
  args: { owner?: ApiKeyOwner; paginationOpts: PaginationOptions },
  now: number,
): Promise<PaginationResult<ApiKeyInfo>> {
  assertIntInRange(args.paginationOpts.numItems, "paginationOpts.numItems", 1, MAX_PAGE_SIZE);
  const owner = args.owner;
  if (owner !== undefined) assertOwner(owner);
  const query =
    owner === undefined
      ? ctx.db.query("apiKeys")
      : ctx.db
          .query("apiKeys")
          .withIndex("by_owner", (q) => q.eq("ownerType", owner.type).eq("ownerId", owner.id));
  const page = await paginateChecked(query.order("desc"), args.paginationOpts);
  return { ...page, page: page.page.map((row) => toInfo(row, now)) };
}
