import { ConvexError } from "convex/values";
import type { Doc } from "../_generated/dataModel.js";
import type { QueryCtx } from "../_generated/server.js";

/** App-level error codes, in `ConvexError.data.code` like convex-guard's own. */
export const AppError = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
} as const;

export function appError(
  code: keyof typeof AppError,
  message: string,
): ConvexError<{ code: string; message: string }> {
  return new ConvexError({ code, message });
}

/**
 * The account of a verified identity: one index lookup on the provider's
 * tokenIdentifier. It is `appAccess`'s profile (guard.ts), so a wrapped
 * function looks it up once and finds it as `ctx.actor.profile`.
 */
export async function accountOf(
  ctx: Pick<QueryCtx, "db">,
  tokenIdentifier: string,
): Promise<Doc<"users"> | null> {
  return ctx.db
    .query("users")
    .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", tokenIdentifier))
    .unique();
}

/** The caller's account (the actor's profile), or UNAUTHENTICATED. */
export function requireAccount(actor: { profile?: Doc<"users"> | null }): Doc<"users"> {
  if (actor.profile == null)
    throw appError("UNAUTHENTICATED", "No account for this identity: sign up first.");
  return actor.profile;
}

/** The one spelling of an email that accounts are stored and looked up by. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The account linked to a normalized email. Sign-up keeps emails unique, so
 * there is at most one; should a duplicate exist, this throws rather than pick.
 */
export async function userByEmail(
  ctx: Pick<QueryCtx, "db">,
  email: string,
): Promise<Doc<"users"> | null> {
  return ctx.db
    .query("users")
    .withIndex("by_email", (q) => q.eq("email", email))
    .unique();
}

/**
 * The email an account may be linked to: only one the provider says it
 * verified. Accounts are found by email (the bootstrap `grantRole`, the
 * password login), so an unverified claim would let anyone stand in for the
 * address's owner.
 */
export function verifiedEmail(identity: {
  email?: string;
  emailVerified?: boolean;
}): string | undefined {
  return identity.emailVerified === true && identity.email
    ? normalizeEmail(identity.email)
    : undefined;
}
