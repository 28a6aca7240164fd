import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { appError } from "./lib/accounts.js";
import { auditedUserMutation, userMutation, userQuery } from "./lib/functions.js";
import { limiter } from "./lib/guard.js";

const MAX_BODY = 2_000;

function checkBody(body: string): string {
  if (body.trim().length === 0 || body.length > MAX_BODY) {
    throw appError("INVALID_ARGUMENT", `A message has 1 to ${MAX_BODY} characters.`);
  }
  return body;
}

/**
 * Sends a message as the caller. Two limits in one call: the caller's own
 * sliding window and the app-wide bucket. `limitAll` consumes nothing unless
 * both admit, and a denial is returned (not thrown) so the client can show
 * when to retry.
 */
export const sendMessage = userMutation({
  args: { body: v.string() },
  returns: v.union(
    v.object({ ok: v.literal(true), messageId: v.id("messages") }),
    v.object({ ok: v.literal(false), retryAfter: v.number() }),
  ),
  handler: async (ctx, { body }) => {
    checkBody(body);
    const limit = await limiter.limitAll(ctx, [
      { name: "sendMessage", key: ctx.user._id },
      { name: "globalMessages" },
    ]);
    if (!limit.ok) return { ok: false as const, retryAfter: limit.retryAfter };
    const messageId = await ctx.db.insert("messages", { author: ctx.user._id, body });
    return { ok: true as const, messageId };
  },
});

/** The caller's messages, newest first, one page at a time. Only ever the caller's rows. */
export const listMyMessages = userQuery({
  args: { paginationOpts: paginationOptsValidator },
  handler: async (ctx, { paginationOpts }) =>
    ctx.db
      .query("messages")
      .withIndex("by_author", (q) => q.eq("author", ctx.user._id))
      .order("desc")
      .paginate(paginationOpts),
});

/**
 * One of the caller's messages, or NOT_FOUND. The row rules (guard.ts) answer
 * someone else's message exactly like a missing one, so ids cannot be probed
 * for existence (IDOR).
 */
export const getMessage = userQuery({
  args: { messageId: v.id("messages") },
  returns: v.object({ _id: v.id("messages"), _creationTime: v.number(), body: v.string() }),
  handler: async (ctx, { messageId }) => {
    const m = await ctx.db.get("messages", messageId);
    if (m === null) throw appError("NOT_FOUND", "No such message.");
    return { _id: m._id, _creationTime: m._creationTime, body: m.body };
  },
});

/**
 * Edits one of the caller's messages. Another user's message, or a missing
 * one, is refused by the row rules: returned as `{ ok: false, reason:
 * "forbidden" }` and audited (`guard.access.deny`, table `messages`).
 */
export const editMessage = auditedUserMutation({
  args: { messageId: v.id("messages"), body: v.string() },
  returns: v.null(),
  handler: async (ctx, { messageId, body }) => {
    await ctx.db.patch("messages", messageId, { body: checkBody(body) });
    return null;
  },
});

/** Deletes one of the caller's messages; refused, returned and audited like `editMessage`. */
export const deleteMessage = auditedUserMutation({
  args: { messageId: v.id("messages") },
  returns: v.null(),
  handler: async (ctx, { messageId }) => {
    await ctx.db.delete("messages", messageId);
    return null;
  },
});
