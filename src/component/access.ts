import { mutation, query } from "./_generated/server.js";
import { vLimitResult } from "./rateLimits/model.js";
import {
  denialArgs,
  grantArgs,
  revokeArgs,
  rolesOfArgs,
  vGrantResult,
  vRevokeResult,
  vRolesOfResult,
} from "./access/model.js";
import { activeGrants, grantRole, revokeRole } from "./access/grants.js";
import { countDenial, peekDenials } from "./access/denials.js";

/*
 * Stored role grants: thin public functions over access/. The host's `Access`
 * client takes the actor from the verified identity and expands roles into
 * permissions in memory; these functions store and read grants only. Each
 * reads Date.now() once.
 */

/** Grants a role to an actor (in a scope, until an expiry). Throws for bad input only. */
export const grant = mutation({
  args: grantArgs,
  returns: vGrantResult,
  handler: async (ctx, args) => grantRole(ctx, args, Date.now()),
});

/** Removes a grant. Throws for bad input only. */
export const revoke = mutation({
  args: revokeArgs,
  returns: vRevokeResult,
  handler: async (ctx, args) => revokeRole(ctx, args, Date.now()),
});

/** The actor's grants in force in one scope (or outside any scope). */
export const rolesOf = query({
  args: rolesOfArgs,
  returns: vRolesOfResult,
  handler: async (ctx, args) => activeGrants(ctx, args, Date.now()),
});

/** Whether the actor's denial budget admits one more denial. Reads its shard only. */
export const checkDenials = query({
  args: denialArgs,
  returns: vLimitResult,
  handler: async (ctx, args) => peekDenials(ctx, args, Date.now()),
});

/** Counts one denial against the actor's budget. */
export const recordDenial = mutation({
  args: denialArgs,
  returns: vLimitResult,
  handler: async (ctx, args) => countDenial(ctx, args, Date.now()),
});
