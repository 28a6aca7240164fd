import { ConvexError } from "convex/values";
import type { Doc } from "../_generated/dataModel.js";
import type { QueryCtx } from "../_generated/server.js";
import { ROLES } from "../schema.js";

export type Role = (typeof ROLES)[number];

/**
 * What each role may do. A permission names the weakest role that holds it;
 * stronger roles inherit it. Functions check permissions, not roles, so moving
 * a capability between roles is a one-line change here.
 */
export const PERMISSIONS = {
  "messages.moderate": "moderator",
  "audit.read": "admin",
  "limits.manage": "admin",
  "users.setRole": "superadmin",
  "users.delete": "superadmin",
  "apiKeys.manage": "superadmin",
} as const satisfies Record<string, Role>;
export type Permission = keyof typeof PERMISSIONS;

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

export function hasRole(user: Doc<"users">, role: Role): boolean {
  return ROLES.indexOf(user.role) >= ROLES.indexOf(role);
}

/** The caller's identity as signed by the auth provider, or throw UNAUTHENTICATED. */
export async function requireIdentity(ctx: Pick<QueryCtx, "auth">) {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) throw appError("UNAUTHENTICATED", "Sign in first.");
  return identity;
}

/** The caller's user row: one index lookup on the provider's tokenIdentifier. */
export async function requireUser(ctx: Pick<QueryCtx, "auth" | "db">): Promise<Doc<"users">> {
  const identity = await requireIdentity(ctx);
  const user = await ctx.db
    .query("users")
    .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
    .unique();
  if (user === null)
    throw appError("UNAUTHENTICATED", "No account for this identity: sign up first.");
  return user;
}

/** The caller, if their role is at least `role`; otherwise FORBIDDEN. */
export async function requireRole(
  ctx: Pick<QueryCtx, "auth" | "db">,
  role: Role,
): Promise<Doc<"users">> {
  const user = await requireUser(ctx);
  if (!hasRole(user, role)) throw appError("FORBIDDEN", `This needs the ${role} role.`);
  return user;
}

/**
 * `user`, if they hold `permission`; otherwise FORBIDDEN. Public functions
 * pass `ctx.user` (their wrapper already looked it up), so the check costs no
 * second read.
 */
export function assertPermission(user: Doc<"users">, permission: Permission): Doc<"users"> {
  if (!hasRole(user, PERMISSIONS[permission]))
    throw appError("FORBIDDEN", `Missing permission ${permission}.`);
  return user;
}

/** The caller, if they hold `permission`; otherwise FORBIDDEN. For internal functions that run as the caller. */
export async function requirePermission(
  ctx: Pick<QueryCtx, "auth" | "db">,
  permission: Permission,
): Promise<Doc<"users">> {
  return assertPermission(await requireUser(ctx), permission);
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
