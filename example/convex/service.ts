import { v } from "convex/values";
import { internalMutation } from "./_generated/server.js";
import { audit, limiter } from "./lib/guard.js";

/**
 * Service-only admission for the HTTP API (http.ts), run after the action has
 * compared the shared secret. Every call counts against its caller's window,
 * authenticated or not, so guessing the secret is throttled too; callers that
 * fail authentication share one bucket, so rotating the claimed name does not
 * buy more guesses. Denials are audited.
 */
export const admit = internalMutation({
  args: { caller: v.string(), authenticated: v.boolean(), path: v.string() },
  returns: v.union(
    v.object({ ok: v.literal(true) }),
    v.object({ ok: v.literal(false), reason: v.union(v.literal("unauthenticated"), v.literal("rate_limited")), retryAfter: v.optional(v.number()) }),
  ),
  handler: async (ctx, { caller, authenticated, path }) => {
    const key = authenticated ? `service:${caller}` : "unauthenticated";
    const limit = await limiter.limit(ctx, "serviceCalls", { key });
    if (!limit.ok) return { ok: false as const, reason: "rate_limited" as const, retryAfter: limit.retryAfter };
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
