/**
 * Deleting a user: a two-step, superadmin-only operation.
 *
 * 1. `requestUserDeletion` (an action) issues a confirmation code bound to
 *    (this superadmin, "user.delete", { userId }) via `runMutation`, then
 *    delivers it out of band. The code never enters `ctx.scheduler` arguments,
 *    a table, a log line or the action's return value.
 * 2. `confirmUserDeletion` deletes the user only with the matching code. A
 *    wrong code is RETURNED, not thrown, so the failed attempt is persisted and
 *    counts toward the lockout.
 *
 * Every step is audited: Confirmations logs issue/consume/failure/lockout
 * itself (without the code), and the deletion logs `user.delete`.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import type { Id } from "./_generated/dataModel.js";
import { internalMutation } from "./_generated/server.js";
import { appError } from "./lib/accounts.js";
import { deliverOutOfBand } from "./lib/delivery.js";
import { identityAction, userMutation, requirePermission } from "./lib/functions.js";
import { audit, confirmations } from "./lib/guard.js";

const DELETE_ACTION = "user.delete";

/**
 * A user-supplied name as it may appear in the email's text: one line, at most
 * 80 characters, quoted. Names are checked on write (users.ts), but a row
 * written before that check, or by a dashboard edit, must not inject lines
 * ("...\nYour code is 00000000") into a message that carries a real code.
 */
function oneLine(name: string): string {
  return JSON.stringify(
    name
      .replace(/[\p{Cc}\u2028\u2029]+/gu, " ")
      .trim()
      .slice(0, 80),
  );
}
const payloadFor = (userId: Id<"users">) => ({ userId });

/**
 * Service-only step of `requestUserDeletion`: checks the caller's permission
 * (the action's identity carries over to `runMutation`) and issues the code.
 * Internal, so no client can call it and read the code from its result.
 */
export const issueDeletionCode = internalMutation({
  args: { userId: v.id("users") },
  handler: async (ctx, { userId }) => {
    const admin = await requirePermission(ctx, "users.delete");
    if (userId === admin._id) throw appError("FORBIDDEN", "Delete your own account another way.");
    const target = await ctx.db.get("users", userId);
    if (target === null) throw appError("NOT_FOUND", "No such user.");
    const issued = await confirmations.issue(ctx, {
      subject: admin._id,
      action: DELETE_ACTION,
      payload: payloadFor(userId),
    });
    return { issued, deliverTo: admin.email ?? admin._id, targetName: target.name };
  },
});

/** Step 1: asks for a deletion code, sent to the superadmin out of band. Returns when it expires, never the code. */
export const requestUserDeletion = identityAction({
  args: { userId: v.id("users") },
  returns: v.union(
    v.object({ ok: v.literal(true), expiresAt: v.number() }),
    v.object({
      ok: v.literal(false),
      reason: v.union(v.literal("rate_limited"), v.literal("locked")),
      retryAfter: v.number(),
    }),
  ),
  handler: async (
    ctx,
    { userId },
  ): Promise<
    | { ok: true; expiresAt: number }
    | { ok: false; reason: "rate_limited" | "locked"; retryAfter: number }
  > => {
    const { issued, deliverTo, targetName } = await ctx.runMutation(
      internal.admin.issueDeletionCode,
      { userId },
    );
    // Too many codes lately, or too many wrong guesses: say when to come back.
    if (!issued.ok) return { ok: false, reason: issued.reason, retryAfter: issued.retryAfter };
    await deliverOutOfBand(
      deliverTo,
      `Your code to delete ${oneLine(targetName)} is ${issued.code}. It expires at ${new Date(issued.expiresAt).toISOString()}.`,
    );
    return { ok: true, expiresAt: issued.expiresAt };
  },
});

/** Step 2: deletes the user if `code` matches the code issued for exactly this user. */
export const confirmUserDeletion = userMutation({
  args: { userId: v.id("users"), code: v.string() },
  handler: async (ctx, { userId, code }) => {
    const admin = await requirePermission(ctx, "users.delete");
    const result = await confirmations.consume(ctx, {
      subject: admin._id,
      action: DELETE_ACTION,
      payload: payloadFor(userId),
      code,
    });
    // Return, never throw, after a failed consume: a throw would roll back the
    // recorded attempt and hand the guesser a free retry.
    if (!result.ok) return result;
    const target = await ctx.db.get("users", userId);
    if (target === null) return { ok: false as const, reason: "none" as const };
    await ctx.db.delete("users", userId);
    await ctx.scheduler.runAfter(0, internal.users.purgeUserData, { userId });
    await audit.log(ctx, {
      action: "user.delete",
      actor: { type: "user", id: admin._id, name: admin.name },
      targets: [{ type: "user", id: userId }],
      outcome: "success",
      severity: "critical",
      metadata: { reason: "confirmed by code" },
    });
    return { ok: true as const, codeId: result.codeId };
  },
});
