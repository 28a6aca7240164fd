import type {
  DocumentByName,
  GenericDataModel,
  GenericQueryCtx,
  TableNamesInDataModel,
  WithoutSystemFields,
} from "convex/server";
import { v, type Infer } from "convex/values";
import type { ApiKeyOwner } from "../component/apiKeys/model.js";
import type { AuditSink } from "./auditSink.js";
import type { ActorRef, GrantInfo } from "../component/access/model.js";
import type { RateLimitConfig } from "../component/rateLimits/model.js";

/** The shapes `Access` takes and returns, and its audit action names. */
export type { ActorRef };

/** A caller signed in through the auth provider: `id` is the provider's `tokenIdentifier`. */
export type UserActor = {
  type: "user";
  id: string;
  subject: string;
  issuer: string;
  email?: string;
  name?: string;
};
/** A caller that presented a valid key to an `ApiKeys` wrapper: `id` is the key id. */
export type ServiceActor = {
  type: "service";
  id: string;
  name: string;
  owner: ApiKeyOwner;
  scopes: string[];
};
/** Who is calling, taken from the verified identity (or key), never from an argument. */
export type Actor = UserActor | ServiceActor;

/** Why a call was refused. */
export const vAccessDenialReason = v.union(
  v.literal("unauthenticated"),
  v.literal("forbidden"),
  v.literal("rate_limited"),
);
export type AccessDenialReason = Infer<typeof vAccessDenialReason>;
/** What a denied wrapped mutation or action returns. */
export const vAccessDenial = v.object({
  ok: v.literal(false),
  reason: vAccessDenialReason,
  retryAfter: v.optional(v.number()),
});
export type AccessDenial = Infer<typeof vAccessDenial>;
export type AccessCheck = { ok: true; actor: Actor } | AccessDenial;

/** True when a wrapped function's result is an access denial rather than the handler's value. */
export function isAccessDenial(value: unknown): value is AccessDenial {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { ok?: unknown }).ok === false &&
    typeof (value as { reason?: unknown }).reason === "string"
  );
}

// ---- roles ----

/** One role: the permissions it holds and the roles whose permissions it holds too. */
export type RoleDefinition<R extends string = string> = {
  inherits?: readonly R[];
  permissions?: readonly string[];
};
export type RoleDefinitions = Record<string, RoleDefinition>;
export type RoleName<R extends RoleDefinitions> = keyof R & string;
/** Every permission some role declares. */
export type PermissionOf<R extends RoleDefinitions> = {
  [K in keyof R]: R[K] extends { permissions: readonly (infer P)[] } ? P & string : never;
}[keyof R];

/** A grant as `rolesOf` reports it; `grantedAt` is absent for roles from `roleOf`. */
export type HeldRole<R extends string = string> = Omit<GrantInfo, "role" | "grantedAt"> & {
  role: R;
  grantedAt?: number;
};

// ---- row rules ----

/**
 * What one table allows the actor, as pure functions of the actor and the
 * rows (no database reads). A missing function denies. `write` sees the
 * stored row and the row the write proposes (`null` for a delete).
 */
export type TableRule<Doc = any, NewDoc = any> = {
  read?(actor: Actor, doc: Doc): boolean | Promise<boolean>;
  write?(actor: Actor, old: Doc, next: Doc | null): boolean | Promise<boolean>;
  insert?(actor: Actor, doc: NewDoc): boolean | Promise<boolean>;
};
export type AccessRules<DataModel extends GenericDataModel = GenericDataModel> = {
  [T in TableNamesInDataModel<DataModel>]?: TableRule<
    DocumentByName<DataModel, T>,
    WithoutSystemFields<DocumentByName<DataModel, T>>
  >;
};
/** Types rules by the app's data model: `rules: defineRules<DataModel>({ posts: { ... } })`. */
export function defineRules<DataModel extends GenericDataModel>(
  rules: AccessRules<DataModel>,
): AccessRules<DataModel> {
  return rules;
}

// ---- options ----

/** Audit action names, in the `guard.` namespace an `AuditLog` always accepts. */
export const ACCESS_AUDIT_ACTIONS = {
  grant: "guard.access.grant",
  revoke: "guard.access.revoke",
  deny: "guard.access.deny",
} as const;

/**
 * Where an actor's roles come from when the host keeps them (e.g. a
 * `users.role` field). It runs with the calling function's ctx: in an
 * action there is no `ctx.db` (use `ctx.runQuery`).
 */
export type RoleOf<R extends string> = (
  // Any data model: the host's own ctx type (e.g. `QueryCtx`) fits without a cast.
  ctx: GenericQueryCtx<any>,
  actor: Actor,
  scope: string | undefined,
) => R | readonly R[] | null | undefined | Promise<R | readonly R[] | null | undefined>;

export type AccessOptions<R extends RoleDefinitions> = {
  /** Every role, with its permissions and the roles it inherits from. */
  roles: R;
  /** The host's role source. Without it, roles are grants stored by the component. */
  roleOf?: RoleOf<RoleName<R>>;
  /** Row rules per table, enforced by the wrappers' `ctx.db` and by `get`/`require`. */
  rules?: AccessRules<any>;
  /** Tables the wrappers' `ctx.db` reads and writes without a rule. Every other table without a rule is denied. */
  public?: readonly string[];
  /** Records grants, revocations and each denied mutation or action (as `guard.access.*`). */
  audit?: AuditSink;
  /** Denials allowed per actor (any rate-limiter config); an actor over it is refused before any check. */
  limit?: RateLimitConfig;
};

/** How a wrapper guards its function. */
export type WrapperOptions<P extends string, Args> = {
  /** The permission the caller must hold (in `scope`). Without it, any signed-in actor passes. */
  permission?: P;
  /** The tenant the permission must hold in: fixed, or read from the call's arguments. */
  scope?: string | ((args: Args) => string);
  /** Mutations and actions return denials by default (so their audit event commits); "throw" throws them. */
  onDenied?: "result" | "throw";
};
