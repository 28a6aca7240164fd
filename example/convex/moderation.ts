import { v } from "convex/values";
import type { Id } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";
import { appError } from "./lib/accounts.js";
import { userMutation, requirePermission } from "./lib/functions.js";
import { audit } from "./lib/guard.js";

/**
 * Deletes a message and audits who removed it, its author and the reason in
 * the same transaction, so there is no removal without its record (and no
 * record of a removal that rolled back). Shared by moderators (below) and the
 * moderation worker's API key (service.ts).
 */
export async function removeMessageAs(
  ctx: MutationCtx,
  actor: { type: string; id: string; name?: string },
  messageId: Id<"messages">,
  reason: string,
): Promise<null> {
  // The audit log caps each string at 1 KB of UTF-8: 500 characters of most scripts exceed it,
  // and a TOO_LARGE from the log would fail the removal with a less helpful error.
  if (
    reason.trim().length === 0 ||
    reason.length > 500 ||
    new TextEncoder().encode(reason).length > 1024
  ) {
    throw appError("INVALID_ARGUMENT", "Give a reason of 1 to 500 characters (at most 1 KB).");
  }
  const message = await ctx.db.get("messages", messageId);
  if (message === null) throw appError("NOT_FOUND", "No such message.");
  await ctx.db.delete("messages", messageId);
  await audit.log(ctx, {
    action: "message.remove",
    actor,
    targets: [
      { type: "message", id: messageId },
      { type: "user", id: message.author },
    ],
    outcome: "success",
    severity: "warning",
    metadata: { reason },
  });
  return null;
}

/** Removes anyone's message. Moderators and above. */
export const removeMessage = userMutation({
  args: { messageId: v.id("messages"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { messageId, reason }) => {
    const moderator = await requirePermission(ctx, "messages.moderate");
    return removeMessageAs(
      ctx,
      { type: "user", id: moderator._id, name: moderator.name },
      messageId,
      reason,
    );
  },
});
