import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { userMutation, userQuery, requirePermission } from "./lib/functions.js";
import { serviceKeys, type ServiceScope } from "./lib/guard.js";

/**
 * Superadmins manage the app's service keys. The plaintext key is in
 * `createKey`'s and `rotateKey`'s results only: the admin page shows it once.
 * Every change is audited (guard.apiKey.create / rotate / revoke) with the
 * admin as actor.
 */

const vScope = v.union(v.literal("login:verify"), v.literal("messages:moderate"));
const OWNER = { type: "app", id: "example" };

export const createKey = userMutation({
  args: { name: v.string(), scopes: v.array(vScope), expiresAt: v.optional(v.number()) },
  handler: async (ctx, { name, scopes, expiresAt }) => {
    const admin = await requirePermission(ctx, "apiKeys.manage");
    return serviceKeys.create(ctx, {
      name,
      owner: OWNER,
      scopes: scopes as ServiceScope[],
      ...(expiresAt === undefined ? {} : { expiresAt }),
      actor: { type: "user", id: admin._id, name: admin.name },
    });
  },
});

/** Key metadata for the admin page: never a key or a digest. */
export const listKeys = userQuery({
  args: { paginationOpts: paginationOptsValidator },
  handler: async (ctx, { paginationOpts }) => {
    await requirePermission(ctx, "apiKeys.manage");
    return serviceKeys.list(ctx, { owner: OWNER, paginationOpts });
  },
});

/** A new secret for the same key; the old one keeps working for `overlap` ms (default one day). */
export const rotateKey = userMutation({
  args: { keyId: v.string(), overlap: v.optional(v.number()) },
  handler: async (ctx, { keyId, overlap }) => {
    const admin = await requirePermission(ctx, "apiKeys.manage");
    return serviceKeys.rotate(ctx, {
      keyId,
      ...(overlap === undefined ? {} : { overlap }),
      actor: { type: "user", id: admin._id, name: admin.name },
    });
  },
});

/** Refused from this transaction on. */
export const revokeKey = userMutation({
  args: { keyId: v.string() },
  handler: async (ctx, { keyId }) => {
    const admin = await requirePermission(ctx, "apiKeys.manage");
    return serviceKeys.revoke(ctx, {
      keyId,
      actor: { type: "user", id: admin._id, name: admin.name },
    });
  },
});
