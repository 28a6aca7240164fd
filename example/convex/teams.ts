/**
 * Team notes: every function is built with convex-guard's `Access`, so the
 * caller is the provider-signed identity (`ctx.actor`), roles are held per
 * team (the scope) with an expiry, and `ctx.db` enforces the row rules of
 * lib/guard.ts: another author's note reads exactly like a missing one.
 *
 * A denied mutation RETURNS `{ ok: false, reason }` and logs
 * `guard.access.deny` in the same transaction; a denied query throws
 * (UNAUTHENTICATED / FORBIDDEN) and is not logged.
 */
import { ConvexError, v } from "convex/values";
import { MINUTE } from "convex-guard";
import type { Id } from "./_generated/dataModel.js";
import { internalMutation, mutation, query } from "./_generated/server.js";
import { access } from "./lib/guard.js";

const team = v.string();
const teamOf = (args: { team: string }) => args.team;
const MAX_BODY = 2_000;

/** Adds a note as the caller, in a team where they hold `notes.write`. */
export const addNote = access.mutation(mutation, { permission: "notes.write", scope: teamOf })({
  args: { team, body: v.string() },
  returns: v.id("teamNotes"),
  handler: async (ctx, { team, body }): Promise<Id<"teamNotes">> => {
    if (body.trim().length === 0 || body.length > MAX_BODY)
      throw new ConvexError({
        code: "INVALID_ARGUMENT",
        message: `A note has 1 to ${MAX_BODY} characters.`,
      });
    return ctx.db.insert("teamNotes", { owner: ctx.actor.id, team, body });
  },
});

/** One note by id. Someone else's note and a missing one are the same NOT_FOUND. */
export const getNote = access.query(query)({
  args: { noteId: v.string() },
  returns: v.object({ _id: v.id("teamNotes"), team: v.string(), body: v.string() }),
  handler: async (ctx, { noteId }) => {
    const id = ctx.db.normalizeId("teamNotes", noteId);
    const note = id === null ? null : await ctx.db.get("teamNotes", id);
    if (note === null) throw new ConvexError({ code: "NOT_FOUND", message: "No such note." });
    return { _id: note._id, team: note.team, body: note.body };
  },
});

/** The caller's notes in one team: selected by index, so a page costs what it returns. */
export const myNotes = access.query(query, { permission: "notes.read", scope: teamOf })({
  args: { team },
  handler: async (ctx, { team }) =>
    ctx.db
      .query("teamNotes")
      .withIndex("by_owner_team", (q) => q.eq("owner", ctx.actor.id).eq("team", team))
      .order("desc")
      .take(50),
});

const teamRole = v.union(v.literal("member"), v.literal("teamAdmin"));

/**
 * Gives a user a role in a team, for `minutes` (default: until revoked). Team
 * admins only; a member who tries is refused, and the refusal is audited.
 */
export const grantTeamRole = access.mutation(mutation, {
  permission: "team.manage",
  scope: teamOf,
})({
  args: { team, userId: v.id("users"), role: teamRole, minutes: v.optional(v.number()) },
  returns: v.object({ ok: v.literal(true), expiresAt: v.optional(v.number()) }),
  handler: async (ctx, { team, userId, role, minutes }) => {
    const user = await ctx.db.get("users", userId);
    if (user === null) throw new ConvexError({ code: "NOT_FOUND", message: "No such user." });
    const expiresAt = minutes === undefined ? undefined : Date.now() + minutes * MINUTE;
    await access.grant(ctx, {
      actor: { type: "user", id: user.tokenIdentifier },
      role,
      scope: team,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
    return { ok: true as const, ...(expiresAt === undefined ? {} : { expiresAt }) };
  },
});

/**
 * Service-only: makes the account with `email` a team admin for `minutes`, to
 * bootstrap a team (`npx convex run teams:bootstrapTeamAdmin '{...}'`).
 */
export const bootstrapTeamAdmin = internalMutation({
  args: { team, email: v.string(), minutes: v.number() },
  returns: v.number(),
  handler: async (ctx, { team, email, minutes }) => {
    const user = await ctx.db
      .query("users")
      .withIndex("by_email", (q) => q.eq("email", email.trim().toLowerCase()))
      .unique();
    if (user === null)
      throw new ConvexError({ code: "NOT_FOUND", message: "No user with that email." });
    const expiresAt = Date.now() + minutes * MINUTE;
    await access.grant(ctx, {
      actor: { type: "user", id: user.tokenIdentifier },
      role: "teamAdmin",
      scope: team,
      expiresAt,
    });
    return expiresAt;
  },
});
