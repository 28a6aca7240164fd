import { defineTable } from "convex/server";
import { v } from "convex/values";

/**
 * The access-control tables, spread into the component's schema. One row per
 * (actor, scope, role) grant; a check reads one actor's grants in one scope
 * with a single `by_actor_scope_role` range (at most MAX_ROLES rows).
 */
export const accessTables = {
  accessGrants: defineTable({
    actorType: v.string(),
    actorId: v.string(),
    /** The tenant the role holds in; absent for a grant outside any scope. */
    scope: v.optional(v.string()),
    role: v.string(),
    grantedAt: v.number(),
    /** After this time (ms) the grant grants nothing; absent: until revoked. */
    expiresAt: v.optional(v.number()),
  }).index("by_actor_scope_role", ["actorType", "actorId", "scope", "role"]),
};
