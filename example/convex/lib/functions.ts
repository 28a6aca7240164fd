/**
 * Function builders for this app. Every PUBLIC function is built with one of
 * these, on convex-guard's `Access` (`appAccess` in guard.ts), so it cannot
 * forget to authenticate: the caller is the provider-signed identity
 * (`ctx.actor`), the handler receives `ctx.user` (the caller's row, looked up
 * by tokenIdentifier) and no function ever takes a `userId` argument that
 * says who the caller is. Denials here throw (UNAUTHENTICATED, FORBIDDEN):
 * these builders guard every call, and an anonymous caller is not worth an
 * audit event. Team notes (teams.ts) show returned, audited denials.
 *
 * Service-only work uses `internalQuery` / `internalMutation` /
 * `internalAction` from `_generated/server` directly: clients cannot call them.
 */
import type { UserIdentity } from "convex/server";
import type { GenericValidator, ObjectType, PropertyValidators } from "convex/values";
import type { ActorWith } from "convex-guard";
import type { Doc } from "../_generated/dataModel.js";
import {
  action,
  mutation,
  query,
  type ActionCtx,
  type MutationCtx,
  type QueryCtx,
} from "../_generated/server.js";
import { accountOf, appError, requireAccount } from "./accounts.js";
import { appAccess } from "./guard.js";

type Definition<Ctx, Args extends PropertyValidators, Output> = {
  args: Args;
  returns?: GenericValidator | PropertyValidators;
  handler: (ctx: Ctx, args: ObjectType<Args>) => Output | Promise<Output>;
};
const returnsOf = (def: { returns?: GenericValidator | PropertyValidators }) =>
  def.returns === undefined ? {} : { returns: def.returns };

/** The actor with the caller's `users` row as its profile (guard.ts). */
type AppActor = ActorWith<Doc<"users">>;
type UserCtx = { actor: AppActor; user: Doc<"users"> };
type IdentityCtx = { actor: AppActor; identity: UserIdentity };

/** A query for signed-in users with an account: `ctx.user` is the caller. */
export function userQuery<Args extends PropertyValidators, Output>(
  def: Definition<QueryCtx & UserCtx, Args, Output>,
) {
  return appAccess.query(query)({
    args: def.args,
    ...returnsOf(def),
    handler: async (ctx, args: ObjectType<Args>) =>
      def.handler({ ...ctx, user: requireAccount(ctx.actor) }, args),
  });
}

/** A mutation for signed-in users with an account: `ctx.user` is the caller. */
export function userMutation<Args extends PropertyValidators, Output>(
  def: Definition<MutationCtx & UserCtx, Args, Output>,
) {
  return appAccess.mutation(mutation, { onDenied: "throw" })({
    args: def.args,
    ...returnsOf(def),
    handler: async (ctx, args: ObjectType<Args>) =>
      def.handler({ ...ctx, user: requireAccount(ctx.actor) }, args),
  });
}

/**
 * A mutation for signed-in users with an account whose refusals are RETURNED
 * (`{ ok: false, reason }`) and audited (`guard.access.deny`): a row rule that
 * refuses a write (another user's message) and an anonymous caller. Used where
 * a refusal is a probe worth a trace; other refusals still throw.
 */
export function auditedUserMutation<Args extends PropertyValidators, Output>(
  def: Definition<MutationCtx & UserCtx, Args, Output>,
) {
  return appAccess.mutation(mutation)({
    args: def.args,
    ...returnsOf(def),
    handler: async (ctx, args: ObjectType<Args>) =>
      def.handler({ ...ctx, user: requireAccount(ctx.actor) }, args),
  });
}

async function requireIdentity(ctx: { auth: QueryCtx["auth"] }): Promise<UserIdentity> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) throw appError("UNAUTHENTICATED", "Sign in first.");
  return identity;
}

/**
 * A mutation for a signed-in identity that may not have an account yet
 * (sign-up). `ctx.identity` is what the auth provider signed.
 */
export function identityMutation<Args extends PropertyValidators, Output>(
  def: Definition<MutationCtx & IdentityCtx, Args, Output>,
) {
  return appAccess.mutation(mutation, { onDenied: "throw" })({
    args: def.args,
    ...returnsOf(def),
    handler: async (ctx, args: ObjectType<Args>) =>
      def.handler({ ...ctx, identity: await requireIdentity(ctx) }, args),
  });
}

/**
 * An action for signed-in identities. Actions have no `db`: permission
 * checks run in the internal mutations they call, which see the same identity.
 */
export function identityAction<Args extends PropertyValidators, Output>(
  def: Definition<ActionCtx & IdentityCtx, Args, Output>,
) {
  return appAccess.action(action, { onDenied: "throw" })({
    args: def.args,
    ...returnsOf(def),
    handler: async (ctx, args: ObjectType<Args>) =>
      def.handler({ ...ctx, identity: await requireIdentity(ctx) }, args),
  });
}

/**
 * The caller's row, if they hold `permission`; otherwise FORBIDDEN, or
 * UNAUTHENTICATED for a caller without an account. In a wrapped function the
 * profile and role were looked up already this call (no read); in an
 * internal function, one read.
 */
export async function requirePermission(
  ctx: QueryCtx,
  permission: Parameters<typeof appAccess.can>[1],
): Promise<Doc<"users">> {
  const check = await appAccess.check(ctx, permission);
  if (check.ok) return requireAccount(check.actor);
  if (check.reason === "forbidden") {
    // Refused: tell an identity without an account to sign up (one more read, on this path only).
    const actor = await appAccess.actor(ctx);
    if (actor !== null && (await accountOf(ctx, actor.id)) !== null)
      throw appError("FORBIDDEN", `Missing permission ${permission}.`);
  }
  throw appError("UNAUTHENTICATED", "Sign in first.");
}
