import { v, type Infer } from "convex/values";
import { vRateLimitConfigArg } from "../rateLimits/model.js";

/*
 * Access-control shapes, declared once: the component's args and returns, the
 * client's types and the grants table. Permissions are never stored: a grant
 * names a role, and the client expands roles into permissions in memory, so
 * editing a role in code needs no data migration.
 */

// ---- size caps ----
export const MAX_ROLE_BYTES = 64;
export const MAX_PERMISSION_BYTES = 128;
export const MAX_SCOPE_BYTES = 256;
/** An actor id is a provider's tokenIdentifier (issuer + subject) or an API key id. */
export const MAX_ACTOR_ID_BYTES = 1024;
export const MAX_ACTOR_TYPE_BYTES = 32;
/** Roles one `Access` declares (and so grants one actor holds in one scope). */
export const MAX_ROLES = 64;
export const MAX_PERMISSIONS_PER_ROLE = 256;
/** A grant may expire at most this far ahead (10 years): further is almost surely a unit mistake. */
export const MAX_GRANT_LIFETIME = 10 * 365 * 24 * 60 * 60 * 1000;

/** Who a grant is for: an actor's type ("user", "service") and stable id. */
export const vActorRef = v.object({ type: v.string(), id: v.string() });
export type ActorRef = Infer<typeof vActorRef>;

/** One active grant of an actor in one scope. */
export const vGrantInfo = v.object({
  role: v.string(),
  grantedAt: v.number(),
  expiresAt: v.optional(v.number()),
});
export type GrantInfo = Infer<typeof vGrantInfo>;

// ---- arguments and results of the public functions ----

export const grantArgs = {
  actor: vActorRef,
  role: v.string(),
  scope: v.optional(v.string()),
  expiresAt: v.optional(v.number()),
  /** The role names the host's `Access` declares; `role` must be one of them. */
  declaredRoles: v.array(v.string()),
};
/** `changed` is false when the same grant (same expiry) was already in place: nothing written. */
export const vGrantResult = v.object({ changed: v.boolean(), grantedAt: v.number() });

export const revokeArgs = {
  actor: vActorRef,
  role: v.string(),
  scope: v.optional(v.string()),
  declaredRoles: v.array(v.string()),
};
/** `revoked` is true when an active grant was removed. */
export const vRevokeResult = v.object({ revoked: v.boolean() });

export const rolesOfArgs = { actor: vActorRef, scope: v.optional(v.string()) };
export const vRolesOfResult = v.array(vGrantInfo);

/** The limiter name of actors' denials, in the namespace hosts cannot use. */
export const DENIAL_LIMIT_NAME = "guard:access:denied";
export const denialArgs = { actor: vActorRef, limit: vRateLimitConfigArg };

/**
 * The argument validator of each public access function (../access.ts), by
 * name: what the host's client checks a call against before making it,
 * without importing the functions themselves into the host's bundle.
 */
export const accessArgs = {
  grant: grantArgs,
  revoke: revokeArgs,
  rolesOf: rolesOfArgs,
  checkDenials: denialArgs,
  recordDenial: denialArgs,
};
