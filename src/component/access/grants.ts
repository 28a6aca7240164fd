import type { MutationCtx, QueryCtx } from "../_generated/server.js";
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
 * Stored grants: one row per (actor, scope, role). Every function reads by
 * the `by_actor_scope_role` index only; grant and revoke write at most one row.
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

/** Grants `role` (or replaces its expiry): 1 read, at most 1 write. */
export async function grantRole(ctx: MutationCtx, args: GrantCall, now: number) {
  assertCall(args);
  if (args.expiresAt !== undefined) assertGrantExpiry(args.expiresAt, now);
  const existing = await findGrant(ctx, args.actor, args.scope, args.role);
  if (existing === null) {
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

/** The actor's grants in force in `scope` at `now`: one index range of at most MAX_ROLES rows. */
export async function activeGrants(
  ctx: QueryCtx,
  args: { actor: ActorRef; scope?: string },
  now: number,
): Promise<GrantInfo[]> {
  assertActorRef(args.actor);
  if (args.scope !== undefined) assertScope(args.scope);
  const rows = await ctx.db
    .query("accessGrants")
    .withIndex("by_actor_scope_role", (q) =>
      q.eq("actorType", args.actor.type).eq("actorId", args.actor.id).eq("scope", args.scope),
    )
    .take(MAX_ROLES);
  return rows
    .filter((g) => g.expiresAt === undefined || g.expiresAt > now)
    .map((g) => ({
      role: g.role,
      grantedAt: g.grantedAt,
      ...(g.expiresAt === undefined ? {} : { expiresAt: g.expiresAt }),
    }));
}
