/**
 * The admin page for rate limits: who is being limited and how often, and
 * "block this sender for an hour". Admins and above only. Blocks are audited
 * (guard.rateLimit.block / unblock, with the admin as actor) in the same
 * transaction, and a blocked sender's `sendMessage` is denied like any other
 * limit, without costing other senders anything.
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { DAY, HOUR, MINUTE } from "convex-guard";
import { appError } from "./lib/accounts.js";
import { userMutation, userQuery, requirePermission } from "./lib/functions.js";
import { audit, limiter } from "./lib/guard.js";

const actorOf = (user: { _id: string }) => ({ type: "user", id: user._id });

/**
 * Messages sent and refused per hour and day over the last `hours` (default
 * 24, at most 31 days), for every sender with the most refused first, or for
 * one sender. Days split at the admin's midnight when the page sends its
 * `timeZone` (the browser's `Intl.DateTimeFormat().resolvedOptions().timeZone`).
 * Hours before `completeUntil` are final.
 */
export const messageStats = userQuery({
  args: {
    sender: v.optional(v.id("users")),
    hours: v.optional(v.number()),
    timeZone: v.optional(v.string()),
  },
  handler: async (ctx, { sender, hours = 24, timeZone }) => {
    await requirePermission(ctx, "limits.manage");
    if (!Number.isInteger(hours) || hours < 1 || hours > (31 * DAY) / HOUR)
      throw appError("INVALID_ARGUMENT", "hours must be an integer from 1 to 744.");
    const to = Math.floor(Date.now() / HOUR) * HOUR + HOUR; // through the current hour
    const from = to - hours * HOUR;
    return limiter.stats(ctx, { name: "sendMessage", key: sender, from, to, timeZone });
  },
});

/** Blocks a sender's messages for `minutes` (at most a week). */
export const blockSender = userMutation({
  args: { sender: v.id("users"), minutes: v.number(), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { sender, minutes, reason }) => {
    await requirePermission(ctx, "limits.manage");
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > (7 * DAY) / MINUTE)
      throw appError("INVALID_ARGUMENT", "minutes must be an integer from 1 to 10080.");
    if (sender === ctx.user._id) throw appError("FORBIDDEN", "You cannot block yourself.");
    if ((await ctx.db.get("users", sender)) === null) throw appError("NOT_FOUND", "No such user.");
    await limiter.block(ctx, "sendMessage", {
      key: sender,
      until: Date.now() + minutes * MINUTE,
      reason,
      audit,
      actor: actorOf(ctx.user),
    });
    return null;
  },
});

/** Lifts a sender's block early; `unblocked` is false if none was in force. */
export const unblockSender = userMutation({
  args: { sender: v.id("users") },
  returns: v.object({ unblocked: v.boolean() }),
  handler: async (ctx, { sender }) => {
    await requirePermission(ctx, "limits.manage");
    return limiter.unblock(ctx, "sendMessage", { key: sender, audit, actor: actorOf(ctx.user) });
  },
});

/** Senders blocked now, soonest to end first (for `usePaginatedQuery`). */
export const blockedSenders = userQuery({
  args: { paginationOpts: paginationOptsValidator },
  handler: async (ctx, { paginationOpts }) => {
    await requirePermission(ctx, "limits.manage");
    return limiter.listBlocks(ctx, "sendMessage", paginationOpts);
  },
});
