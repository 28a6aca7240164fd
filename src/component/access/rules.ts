import { ErrorCode, guardError } from "../lib/errors.js";
import { assertFinite, assertString } from "../lib/validate.js";
import { normalizeConfig } from "../rateLimits/config.js";
import type { RateLimitConfigArg } from "../rateLimits/model.js";
import {
  MAX_ACTOR_ID_BYTES,
  MAX_ACTOR_TYPE_BYTES,
  MAX_GRANT_LIFETIME,
  MAX_PERMISSIONS_PER_ROLE,
  MAX_PERMISSION_BYTES,
  MAX_ROLES,
  MAX_ROLE_BYTES,
  MAX_SCOPE_BYTES,
  type ActorRef,
} from "./model.js";

/*
 * Access-control rules as pure functions: input checks shared by the client
 * and the component, the role graph (checked once, at construction) and the
 * expansion of held roles into permissions. No ctx.
 */

/** Role and permission names: a letter first, then letters, digits and `_ . : -`. */
const NAME_RE = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
const ACTOR_TYPE_RE = /^[a-z][a-zA-Z0-9_-]*$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function assertName(
  value: unknown,
  what: string,
  maxBytes: number,
  code: ErrorCode,
): asserts value is string {
  assertString(value, what, maxBytes);
  if (!NAME_RE.test(value))
    throw guardError(
      code,
      `${what} must start with a letter and hold only letters, digits and _ . : - (got ${JSON.stringify(value)})`,
    );
}

export function assertRoleName(
  role: unknown,
  what = "role",
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): asserts role is string {
  assertName(role, what, MAX_ROLE_BYTES, code);
}

export function assertPermissionName(
  permission: unknown,
  what = "permission",
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): asserts permission is string {
  assertName(permission, what, MAX_PERMISSION_BYTES, code);
}

/** A scope (tenant) names one: a non-empty string without control characters. */
export function assertScope(scope: unknown, what = "scope"): asserts scope is string {
  assertString(scope, what, MAX_SCOPE_BYTES);
  if (CONTROL_RE.test(scope) || scope.trim().length === 0)
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `${what} must not be blank or contain control characters`,
    );
}

export function assertActorRef(actor: unknown, what = "actor"): asserts actor is ActorRef {
  if (typeof actor !== "object" || actor === null)
    throw guardError(ErrorCode.INVALID_ARGUMENT, `${what} must be { type, id }`);
  const { type, id } = actor as { type?: unknown; id?: unknown };
  assertString(type, `${what}.type`, MAX_ACTOR_TYPE_BYTES);
  if (!ACTOR_TYPE_RE.test(type))
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `${what}.type must be a lower-case word like "user" or "service"`,
    );
  assertString(id, `${what}.id`, MAX_ACTOR_ID_BYTES);
}

/** A grant's expiry: after `now` and at most MAX_GRANT_LIFETIME ahead. */
export function assertGrantExpiry(expiresAt: unknown, now: number): asserts expiresAt is number {
  assertFinite(expiresAt, "expiresAt");
  if (expiresAt <= now)
    throw guardError(ErrorCode.INVALID_ARGUMENT, "expiresAt must be in the future", {
      expiresAt,
      now,
    });
  if (expiresAt - now > MAX_GRANT_LIFETIME)
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      "expiresAt is more than 10 years ahead (milliseconds since the epoch expected)",
    );
}

/** `role` is one of the roles the host declares (so a typo never becomes a stored grant). */
export function assertKnownRole(role: string, declared: readonly string[]): void {
  if (!declared.includes(role))
    throw guardError(ErrorCode.INVALID_ARGUMENT, `unknown role ${JSON.stringify(role)}`, { role });
}

/** The declared role list the client sends with each grant and revoke. */
export function assertDeclaredRoles(declared: unknown): asserts declared is string[] {
  if (!Array.isArray(declared) || declared.length === 0 || declared.length > MAX_ROLES)
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `declaredRoles must list 1 to ${MAX_ROLES} role names`,
    );
  for (const role of declared) assertRoleName(role, "declaredRoles[]");
}

// ---- the role graph ----

export type RoleDefinition = {
  /** Roles whose permissions this role holds too. */
  inherits?: readonly string[];
  permissions?: readonly string[];
};

/** Declared roles with every role's permissions expanded through `inherits` (in memory, never stored). */
export type RoleGraph = {
  roles: readonly string[];
  permissions: ReadonlySet<string>;
  /** Role -> every permission it holds, its own and inherited. */
  expanded: ReadonlyMap<string, ReadonlySet<string>>;
};

/**
 * Checks the host's role declarations (names, unknown roles in `inherits`,
 * cycles: INVALID_CONFIG naming the role) and expands each role's
 * permissions through its ancestors.
 */
export function compileRoles(roles: unknown): RoleGraph {
  const C = ErrorCode.INVALID_CONFIG;
  if (typeof roles !== "object" || roles === null || Array.isArray(roles))
    throw guardError(C, "roles must be an object of { inherits?, permissions? } by role name");
  const names = Object.keys(roles);
  if (names.length === 0 || names.length > MAX_ROLES)
    throw guardError(C, `roles must declare 1 to ${MAX_ROLES} roles, got ${names.length}`);
  const defs = new Map<string, { inherits: string[]; permissions: string[] }>();
  for (const name of names) {
    assertRoleName(name, "role name", C);
    const def = (roles as Record<string, unknown>)[name];
    if (typeof def !== "object" || def === null)
      throw guardError(C, `roles.${name} must be { inherits?, permissions? }`);
    const { inherits = [], permissions = [] } = def as RoleDefinition;
    if (!Array.isArray(inherits)) throw guardError(C, `roles.${name}.inherits must be an array`);
    if (!Array.isArray(permissions) || permissions.length > MAX_PERMISSIONS_PER_ROLE)
      throw guardError(
        C,
        `roles.${name}.permissions must be an array of at most ${MAX_PERMISSIONS_PER_ROLE} names`,
      );
    for (const p of permissions) assertPermissionName(p, `roles.${name}.permissions[]`, C);
    for (const parent of inherits) {
      if (typeof parent !== "string" || !Object.prototype.hasOwnProperty.call(roles, parent))
        throw guardError(C, `roles.${name}.inherits names unknown role ${JSON.stringify(parent)}`);
    }
    defs.set(name, { inherits: [...inherits], permissions: [...permissions] });
  }
  const expanded = new Map<string, ReadonlySet<string>>();
  const visiting = new Set<string>();
  const expand = (name: string, path: string[]): ReadonlySet<string> => {
    const done = expanded.get(name);
    if (done !== undefined) return done;
    if (visiting.has(name))
      throw guardError(C, `roles inherit in a cycle: ${[...path, name].join(" -> ")}`);
    visiting.add(name);
    const def = defs.get(name);
    const out = new Set<string>(def?.permissions ?? []);
    for (const parent of def?.inherits ?? []) {
      for (const p of expand(parent, [...path, name])) out.add(p);
    }
    visiting.delete(name);
    expanded.set(name, out);
    return out;
  };
  const permissions = new Set<string>();
  for (const name of names) for (const p of expand(name, [])) permissions.add(p);
  return { roles: names, permissions, expanded };
}

/** Whether any of `roles` holds `permission` (roles the graph does not know grant nothing). */
export function rolesHold(graph: RoleGraph, roles: Iterable<string>, permission: string): boolean {
  for (const role of roles) if (graph.expanded.get(role)?.has(permission) === true) return true;
  return false;
}

/** The roles of `grants` still in force at `now`: a grant expiring at `now` has expired. */
export function activeRoles(
  grants: readonly { role: string; expiresAt?: number }[],
  now: number,
): string[] {
  return grants.filter((g) => g.expiresAt === undefined || g.expiresAt > now).map((g) => g.role);
}

/** A denial limit must decide in the transaction (an asynchronous one would let a burst through). */
export function assertDenialLimitConfig(limit: RateLimitConfigArg, code: ErrorCode): void {
  if (normalizeConfig(limit, "limit").async)
    throw guardError(code, 'limit must not use applyUpdates: "asynchronously"');
}
