import { v } from "convex/values";
import { internalMutation } from "./_generated/server.js";
import { userByEmail } from "./lib/accounts.js";
import { audit, limiter } from "./lib/guard.js";
import { checkPassword } from "./lib/passwords.js";

/**
 * Service-only: checks an email and password for the trusted login server
 * (POST /service/verify-password in http.ts, which verified the server's API
 * key and normalized the email). Failed attempts per account are limited by
 * an EXACT sliding window (5 per 15 minutes); a success resets it.
 *
 * Failures are returned, not thrown, so the failure count and the audit event
 * commit with the mutation. The answer for an unknown email is the same as
 * for a wrong password. Every event about an existing account names it as a
 * target (the lockout too), so erasing the account's data finds them all.
 */
export const verifyPassword = internalMutation({
  args: {
    email: v.string(),
    password: v.string(),
    caller: v.object({ keyId: v.string(), name: v.string() }),
  },
  returns: v.union(
    v.object({ ok: v.literal(true), userId: v.id("users") }),
    v.object({ ok: v.literal(false), reason: v.literal("invalid") }),
    v.object({ ok: v.literal(false), reason: v.literal("locked"), retryAfter: v.number() }),
  ),
  handler: async (ctx, { email, password, caller }) => {
    const key = email; // normalized, non-empty and at most 254 bytes (http.ts)
    const actor = { type: "apiKey", id: caller.keyId, name: caller.name };
    const user = await userByEmail(ctx, key);
    const targets = user ? [{ type: "user", id: user._id }] : [];
    const gate = await limiter.check(ctx, "failedLogins", { key });
    if (!gate.ok) {
      await audit.log(ctx, {
        action: "auth.login",
        actor,
        targets,
        outcome: "denied",
        reason: "locked",
        metadata: { email: key },
      });
      return { ok: false as const, reason: "locked" as const, retryAfter: gate.retryAfter };
    }
    const good = await checkPassword(password, {
      hash: user?.passwordHash,
      salt: user?.passwordSalt,
    });
    if (!good || user === null) {
      await limiter.limit(ctx, "failedLogins", { key });
      await audit.log(ctx, {
        action: "auth.login",
        actor,
        targets,
        outcome: "failure",
        reason: "invalid credentials",
        metadata: { email: key },
      });
      return { ok: false as const, reason: "invalid" as const };
    }
    await limiter.reset(ctx, "failedLogins", { key });
    await audit.log(ctx, {
      action: "auth.login",
      actor,
      targets,
      outcome: "success",
      metadata: { email: key },
    });
    return { ok: true as const, userId: user._id };
  },
});
