import { v } from "convex/values";
import { mutation } from "./_generated/server.js";
import { serviceKeys } from "./lib/guard.js";
import { removeMessageAs } from "./moderation.js";

/**
 * Functions for the app's own servers, authenticated by API key instead of a
 * user. The wrapper adds an `apiKey` argument, verifies it (scope, per-key
 * limit), removes it from `args` and puts the key's identity in `ctx.apiKey`.
 * A refused key gets `{ ok: false, reason }` back and the handler never runs;
 * the refusal is counted and audited (guard.apiKey.deny).
 */
const moderationWorker = serviceKeys.mutation(mutation, { scope: "messages:moderate" });

/** The spam classifier removes a message; the audit event names its key, not a user. */
export const removeMessage = moderationWorker({
  args: { messageId: v.id("messages"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { messageId, reason }) =>
    removeMessageAs(
      ctx,
      { type: "apiKey", id: ctx.apiKey.keyId, name: ctx.apiKey.name },
      messageId,
      reason,
    ),
});
