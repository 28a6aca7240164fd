/**
 * Function builders for this app. Every PUBLIC function is built with one of
 * these, so it cannot forget to authenticate: the handler receives `ctx.user`
 * (the caller's row, looked up by the provider-signed tokenIdentifier) and no
 * function ever takes a `userId` argument that says who the caller is.
 *
 * Service-only work uses `internalQuery` / `internalMutation` /
 * `internalAction` from `_generated/server` directly: clients cannot call them.
 */
import {
  customAction,
  customCtx,
  customMutation,
  customQuery,
} from "convex-helpers/server/customFunctions";
import { action, mutation, query } from "../_generated/server.js";
import { requireIdentity, requireUser } from "./auth.js";

/** A query for signed-in users with an account: `ctx.user` is the caller. */
export const userQuery = customQuery(
  query,
  customCtx(async (ctx) => ({ user: await requireUser(ctx) })),
);

/** A mutation for signed-in users with an account: `ctx.user` is the caller. */
export const userMutation = customMutation(
  mutation,
  customCtx(async (ctx) => ({ user: await requireUser(ctx) })),
);

/**
 * A mutation for a signed-in identity that may not have an account yet
 * (sign-up). `ctx.identity` is what the auth provider signed.
 */
export const identityMutation = customMutation(
  mutation,
  customCtx(async (ctx) => ({ identity: await requireIdentity(ctx) })),
);

/**
 * An action for signed-in identities. Actions have no `db`: role checks run
 * in the internal mutations they call, which see the same identity.
 */
export const identityAction = customAction(
  action,
  customCtx(async (ctx) => ({ identity: await requireIdentity(ctx) })),
);
