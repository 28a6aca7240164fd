import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { MAX_ROLES, type ActorRef, type GrantInfo } from "./model.js";
import {
  assertActorRef,
  assertDeclaredRoles,
  assertGrantExpiry,
  assertKnownRole,
  assertRoleName,
  assertScope,
} from "./rules.js";

/*
 * Stored grants: one row per (actor, scope, role), at most MAX_ROLES rows per
 * (actor, scope). Every function reads by the `by_actor_scope_role` index
 * only; revoke writes at most one row, grant one row plus the deletion of
 * that (actor, scope)'s expired rows when it adds a row.
 */

type GrantCall = {
  actor: ActorRef;
  role: string;
  scope?: string;
  expiresAt?: number;
  declaredRoles: string[];
};

function assertCall(args: Omit<GrantCall, "expiresAt">): void {
  assertActorRef(args.actor);
  assertDeclaredRoles(args.declaredRoles);
  assertRoleName(args.role);
  assertKnownRole(args.role, args.declaredRoles);
  if (args.scope !== undefined) assertScope(args.scope);
}

async function findGrant(ctx: QueryCtx, actor: ActorRef, scope: string | undefined, role: string) {
  return ctx.db
    .query("accessGrants")
    .withIndex("by_actor_scope_role", (q) =>
      q.eq("actorType", actor.type).eq("actorId", actor.id).eq("scope", scope).eq("role", role),
    )
    .unique();
}

/** The actor's grant rows in `scope`: one index range, at most MAX_ROLES + 1 rows. */
async function grantRows(ctx: QueryCtx, actor: ActorRef, scope: string | undefined) {
  const rows = await ctx.db
    .query("accessGrants")
    .withIndex("by_actor_scope_role", (q) =>
      q.eq("actorType", actor.type).eq("actorId", actor.id).eq("scope", scope),
    )
    .take(MAX_ROLES + 1);
  if (rows.length > MAX_ROLES)
    throw guardError(
      ErrorCode.CORRUPT_STATE,
      `more than ${MAX_ROLES} grants stored for one actor and scope`,
    );
  return rows;
}

/**
 * Grants `role` (or replaces its expiry): one index range of the actor's
 * grants in `scope`. A new row first deletes that range's expired rows, and
 * is TOO_LARGE (changing nothing) when MAX_ROLES live rows remain.
 */
export async function grantRole(ctx: MutationCtx, args: GrantCall, now: number) {
  assertCall(args);
  if (args.expiresAt !== undefined) assertGrantExpiry(args.expiresAt, now);
  const rows = await grantRows(ctx, args.actor, args.scope);
  const existing = rows.find((g) => g.role === args.role) ?? null;
  if (existing === null) {
    const expired = rows.filter((g) => g.expiresAt !== undefined && g.expiresAt <= now);
    if (rows.length - expired.length >= MAX_ROLES)
      throw guardError(
        ErrorCode.TOO_LARGE,
        `an actor holds at most ${MAX_ROLES} grants in one scope`,
        { limit: MAX_ROLES },
      );
    for (const g of expired) await ctx.db.delete("accessGrants", g._id);
    await ctx.db.insert("accessGrants", {
      actorType: args.actor.type,
      actorId: args.actor.id,
      ...(args.scope === undefined ? {} : { scope: args.scope }),
      role: args.role,
      grantedAt: now,
      ...(args.expiresAt === undefined ? {} : { expiresAt: args.expiresAt }),
    });
    return { changed: true, grantedAt: now };
  }
  const active = existing.expiresAt === undefined || existing.expiresAt > now;
  if (active && existing.expiresAt === args.expiresAt)
    return { changed: false, grantedAt: existing.grantedAt };
  // An expired grant granted again starts anew; a live one keeps its start and gets the new expiry.
  await ctx.db.replace("accessGrants", existing._id, {
    actorType: existing.actorType,
    actorId: existing.actorId,
    ...(existing.scope === undefined ? {} : { scope: existing.scope }),
    role: existing.role,
    grantedAt: active ? existing.grantedAt : now,
    ...(args.expiresAt === undefined ? {} : { expiresAt: args.expiresAt }),
  });
  return { changed: true, grantedAt: active ? existing.grantedAt : now };
}

/** Removes the grant (live or expired): 1 read, at most 1 write. */
export async function revokeRole(
  ctx: MutationCtx,
  args: Omit<GrantCall, "expiresAt">,
  now: number,
) {
  assertCall(args);
  const existing = await findGrant(ctx, args.actor, args.scope, args.role);
  if (existing === null) return { revoked: false };
  await ctx.db.delete("accessGrants", existing._id);
  return { revoked: existing.expiresAt === undefined || existing.expiresAt > now };
}

/** The actor's grants in force in `scope` at `now`: one index range of at most MAX_ROLES + 1 rows. */
export async function activeGrants(
  ctx: QueryCtx,
  args: { actor: ActorRef; scope?: string },
  now: number,
): Promise<GrantInfo[]> {
  assertActorRef(args.actor);
  if (args.scope !== undefined) assertScope(args.scope);
  const rows = await grantRows(ctx, args.actor, args.scope);
  return rows
    .filter((g) => g.expiresAt === undefined || g.expiresAt > now)
    .map((g) => ({
      role: g.role,
      grantedAt: g.grantedAt,
      ...(g.expiresAt === undefined ? {} : { expiresAt: g.expiresAt }),
    }));
}
