import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

/** Roles, weakest first. A role includes every permission of the roles before it. */
export const ROLES = ["user", "moderator", "admin", "superadmin"] as const;
export const roleValidator = v.union(
  v.literal("user"),
  v.literal("moderator"),
  v.literal("admin"),
  v.literal("superadmin"),
);

export default defineSchema({
  // One row per person. The only link to the auth provider is `tokenIdentifier`
  // (issuer + subject of the JWT), so a caller is always identified by what the
  // provider signed, never by an id the client sends.
  users: defineTable({
    tokenIdentifier: v.string(),
    name: v.string(),
    email: v.optional(v.string()),
    role: roleValidator,
    // PBKDF2 hash and salt for the password login served to the trusted
    // server (http.ts). Optional: most users log in through the provider only.
    passwordHash: v.optional(v.string()),
    passwordSalt: v.optional(v.string()),
  })
    .index("by_tokenIdentifier", ["tokenIdentifier"])
    .index("by_email", ["email"]),

  messages: defineTable({
    author: v.id("users"),
    body: v.string(),
  }).index("by_author", ["author"]),

  // Team notes, guarded by convex-guard's Access (teams.ts): `owner` is the
  // author's tokenIdentifier, the actor id the row rules compare with.
  teamNotes: defineTable({
    owner: v.string(),
    team: v.string(),
    body: v.string(),
  }).index("by_owner_team", ["owner", "team"]),

  // Audit heads published by the hourly cron (auditAnchors.ts) when no
  // webhook is configured: insert only, the stand-in for a store outside
  // the deployment.
  publishedHeads: defineTable({
    anchor: v.string(),
    n: v.number(),
    sealedAt: v.number(),
    publishedAt: v.number(),
  }),
});
