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
/**
 * The actor as rules, `roleOf` and wrapped handlers see it: with `profile`
 * configured, `profile` is what it returned for this actor (null when the
 * app has no row for them); without it, absent.
 */
export type ActorWith<P> = Actor & { profile?: P | null };

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
export type AccessCheck<P = never> = { ok: true; actor: ActorWith<P> } | AccessDenial;

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
export type TableRule<Doc = any, NewDoc = any, P = never> = {
  read?(actor: ActorWith<P>, doc: Doc): boolean | Promise<boolean>;
  write?(actor: ActorWith<P>, old: Doc, next: Doc | null): boolean | Promise<boolean>;
  insert?(actor: ActorWith<P>, doc: NewDoc): boolean | Promise<boolean>;
};
export type AccessRules<DataModel extends GenericDataModel = GenericDataModel, P = never> = {
  [T in TableNamesInDataModel<DataModel>]?: TableRule<
    DocumentByName<DataModel, T>,
    WithoutSystemFields<DocumentByName<DataModel, T>>,
    P
  >;
};
/**
 * Types rules by the app's data model and, when `Access` has a `profile`, by
 * the profile's type: `defineRules<DataModel, Doc<"users">>({ posts: { ... } })`.
 */
export function defineRules<DataModel extends GenericDataModel, P = never>(
  rules: AccessRules<DataModel, P>,
): AccessRules<DataModel, P> {
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
export type RoleOf<R extends string, P = never> = (
  // Any data model: the host's own ctx type (e.g. `QueryCtx`) fits without a cast.
  ctx: GenericQueryCtx<any>,
  actor: ActorWith<P>,
  scope: string | undefined,
) => R | readonly R[] | null | undefined | Promise<R | readonly R[] | null | undefined>;

/**
 * The app's own record of an actor (e.g. its `users` row, looked up by
 * `actor.id` through an index), derived from the verified actor only: it
 * never sees the call's arguments. Runs in queries and mutations, with the
 * calling function's ctx; in an action (no `ctx.db`) it is not called and
 * `actor.profile` is absent.
 */
export type ProfileOf<P> = (ctx: GenericQueryCtx<any>, actor: Actor) => Promise<P | null>;

export type AccessOptions<R extends RoleDefinitions, P = never> = {
  /** Every role, with its permissions and the roles it inherits from. */
  roles: R;
  /**
   * Looks up the app's record of the actor, at most once per function call;
   * rules, `roleOf` and wrapped handlers see it as `actor.profile`. Costs what
   * it reads (one indexed read for a row by tokenIdentifier); without it, 0.
   */
  profile?: ProfileOf<P>;
  /** The host's role source (it sees `actor.profile`). Without it, roles are grants stored by the component. */
  roleOf?: RoleOf<RoleName<R>, NoInfer<P>>;
  /** Row rules per table, enforced by the wrappers' `ctx.db` and by `get`/`require`. */
  rules?: AccessRules<any, NoInfer<P>>;
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
