import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { internalMutation } from "./_generated/server.js";
import { appError, normalizeEmail, userByEmail, verifiedEmail } from "./lib/accounts.js";
import { identityMutation, userMutation, userQuery, requirePermission } from "./lib/functions.js";
import { audit, limiter } from "./lib/guard.js";
import { hashPassword } from "./lib/passwords.js";
import { roleValidator } from "./schema.js";

const MAX_NAME = 80;

/** Control characters and line or paragraph separators: a name is one line wherever it is shown. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME) {
    throw appError("INVALID_ARGUMENT", `A name has 1 to ${MAX_NAME} characters.`);
  }
  if (CONTROL.test(trimmed)) {
    throw appError("INVALID_ARGUMENT", "A name is one line, without control characters.");
  }
  return trimmed;
}

/**
 * Creates the caller's account, linked to the identity the auth provider
 * signed. Throttled for the whole app (fixed window): a sign-up flood cannot
 * fill the users table. Idempotent: signing up twice returns the same id.
 * The account gets the identity's email only if the provider verified it and
 * no other account has it, so an email names at most one account.
 */
export const signUp = identityMutation({
  args: { name: v.string() },
  returns: v.id("users"),
  handler: async (ctx, { name }) => {
    const existing = await ctx.db
      .query("users")
      .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", ctx.identity.tokenIdentifier))
      .unique();
    if (existing !== null) return existing._id;
    // Throws ConvexError { kind: "RateLimited", name, retryAfter }: nothing to keep, so a throw is right.
    await limiter.limit(ctx, "signUp", { throws: true });
    const email = verifiedEmail(ctx.identity);
    const taken = email !== undefined && (await userByEmail(ctx, email)) !== null;
    const userId = await ctx.db.insert("users", {
      tokenIdentifier: ctx.identity.tokenIdentifier,
      name: checkName(name),
      email: taken ? undefined : email,
      role: "user",
    });
    await audit.log(ctx, {
      action: "user.signUp",
      actor: { type: "user", id: userId },
      targets: [{ type: "user", id: userId }],
      outcome: "success",
      metadata: {},
    });
    return userId;
  },
});

/** The caller's own account. There is no "get user by id" for ordinary users. */
export const me = userQuery({
  args: {},
  returns: v.object({
    _id: v.id("users"),
    name: v.string(),
    email: v.optional(v.string()),
    role: roleValidator,
  }),
  handler: async (ctx) => ({
    _id: ctx.user._id,
    name: ctx.user.name,
    email: ctx.user.email,
    role: ctx.user.role,
  }),
});

/** Renames the caller. It takes no user id: a caller can only ever change their own row. */
export const updateMyName = userMutation({
  args: { name: v.string() },
  returns: v.null(),
  handler: async (ctx, { name }) => {
    await ctx.db.patch("users", ctx.user._id, { name: checkName(name) });
    return null;
  },
});

/** Sets the caller's password for the trusted server's password login (http.ts). */
export const setMyPassword = userMutation({
  args: { password: v.string() },
  returns: v.null(),
  handler: async (ctx, { password }) => {
    if (password.length < 12 || password.length > 256) {
      throw appError("INVALID_ARGUMENT", "A password has 12 to 256 characters.");
    }
    if (!ctx.user.email)
      throw appError("INVALID_ARGUMENT", "Password login needs an email on the account.");
    const { hash, salt } = await hashPassword(password);
    await ctx.db.patch("users", ctx.user._id, { passwordHash: hash, passwordSalt: salt });
    return null;
  },
});

/** Changes another user's role. Superadmins only; every change is audited. */
export const setRole = userMutation({
  args: { userId: v.id("users"), role: roleValidator },
  returns: v.null(),
  handler: async (ctx, { userId, role }) => {
    const actor = await requirePermission(ctx, "users.setRole");
    if (userId === actor._id) throw appError("FORBIDDEN", "Nobody changes their own role.");
    const target = await ctx.db.get("users", userId);
    if (target === null) throw appError("NOT_FOUND", "No such user.");
    await ctx.db.patch("users", userId, { role });
    await audit.log(ctx, {
      action: "user.setRole",
      actor: { type: "user", id: actor._id, name: actor.name },
      targets: [{ type: "user", id: userId }],
      outcome: "success",
      metadata: { from: target.role, to: role },
    });
    return null;
  },
});

/**
 * Service-only: grants a role by email, for bootstrapping the first
 * superadmin (`npx convex run users:grantRole '{"email":"...","role":"superadmin"}'`).
 * Internal, so no client can call it.
 */
export const grantRole = internalMutation({
  args: { email: v.string(), role: roleValidator },
  returns: v.id("users"),
  handler: async (ctx, { email, role }) => {
    const user = await userByEmail(ctx, normalizeEmail(email));
    if (user === null) throw appError("NOT_FOUND", "No user with that email.");
    await ctx.db.patch("users", user._id, { role });
    await audit.log(ctx, {
      action: "user.setRole",
      actor: { type: "service", id: "cli" },
      targets: [{ type: "user", id: user._id }],
      outcome: "success",
      metadata: { from: user.role, to: role },
    });
    return user._id;
  },
});

const PURGE_BATCH = 200;

/**
 * Service-only: erases a deleted user's data in bounded batches, rescheduling
 * itself until done: first their messages, then their personal fields in the
 * audit log (the redacted email: its value and salt are deleted, the
 * commitment stays, so the log still verifies). Its arguments hold an id,
 * never a secret, so they are safe in the scheduler.
 */
export const purgeUserData = internalMutation({
  args: { userId: v.id("users") },
  returns: v.null(),
  handler: async (ctx, { userId }) => {
    const batch = await ctx.db
      .query("messages")
      .withIndex("by_author", (q) => q.eq("author", userId))
      .take(PURGE_BATCH);
    for (const m of batch) await ctx.db.delete("messages", m._id);
    const done =
      batch.length < PURGE_BATCH &&
      (
        await audit.erase(ctx, {
          subject: { type: "user", id: userId },
          actor: { type: "service", id: "purgeUserData" },
        })
      ).done;
    if (!done) await ctx.scheduler.runAfter(0, internal.users.purgeUserData, { userId });
    return null;
  },
});
