import { v } from "convex/values";
import { internalMutation } from "./_generated/server.js";
import { audit, limiter } from "./lib/guard.js";

/**
 * Service-only admission for the HTTP API (http.ts), run after the action has
 * compared the shared secret. Every call counts against a window: its
 * caller's own, or one bucket shared by every call that failed
 * authentication, so a flood of bad calls (whatever names it claims) writes
 * at most 30 audit events a minute and never eats into a real caller's
 * window. Denials are audited.
 *
 * Two limits of this design, by nature of one shared secret: the windows do
 * not slow down guessing the secret (a right guess is admitted under its own
 * window, so the answers reveal it), which is why http.ts refuses secrets
 * under 32 bytes; and the caller name is self-declared, so the windows split
 * the quota among cooperating servers but do not bound the secret's holder.
 * Give each server its own secret if they must be told apart.
 */
export const admit = internalMutation({
  args: { caller: v.string(), authenticated: v.boolean(), path: v.string() },
  returns: v.union(
    v.object({ ok: v.literal(true) }),
    v.object({
      ok: v.literal(false),
      reason: v.union(v.literal("unauthenticated"), v.literal("rate_limited")),
      retryAfter: v.optional(v.number()),
    }),
  ),
  handler: async (ctx, { caller, authenticated, path }) => {
    const key = authenticated ? `service:${caller}` : "unauthenticated";
    const limit = await limiter.limit(ctx, "serviceCalls", { key });
    if (!limit.ok)
      return { ok: false as const, reason: "rate_limited" as const, retryAfter: limit.retryAfter };
    if (!authenticated) {
      await audit.log(ctx, {
        action: "service.call",
        actor: { type: "service", id: caller },
        outcome: "denied",
        reason: "bad shared secret",
        severity: "warning",
        metadata: { path },
      });
      return { ok: false as const, reason: "unauthenticated" as const };
    }
    return { ok: true as const };
  },
});
