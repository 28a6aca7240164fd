import type { Auth, GenericDataModel, GenericQueryCtx } from "convex/server";
import type { ComponentApi } from "../component/_generated/component.js";
import { ErrorCode, guardError } from "../component/lib/errors.js";
import type { RateLimitConfig } from "../component/rateLimits/model.js";
import type { ActorRef } from "../component/access/model.js";
import {
  activeRoles,
  assertActorRef,
  assertDenialLimitConfig,
  assertKnownRole,
  assertPermissionName,
  assertRoleName,
  assertScope,
  compileRoles,
  rolesHold,
  type RoleGraph,
} from "../component/access/rules.js";
import type { RunMutationCtx, RunQueryCtx } from "./ctx.js";
import { verifiedApiKeyOf } from "./apiKeyFunctions.js";
import { GUARD_ACTOR, type AuditSink } from "./auditSink.js";
import { RowPolicy } from "./accessDb.js";
import { mutateComponent, queryComponent } from "./checkArgs.js";
import { accessArgs } from "../component/access/model.js";
import type { Admission, Checked, Gate } from "./accessFunctions.js";
import {
  ACCESS_AUDIT_ACTIONS,
  type AccessOptions,
  type Actor,
  type ActorWith,
  type ProfileOf,
  type RoleDefinitions,
  type RoleName,
  type RoleOf,
} from "./accessTypes.js";

/** A ctx that carries the caller's identity: any query, mutation or action ctx. */
export type AuthCtx = { auth: Auth };
type AuditActor = { type: string; id: string; name?: string };
type Grants = readonly { role: string; expiresAt?: number }[];

/**
 * The parts of `Access` its wrappers share: options checks, the actor, the
 * permission check with its per-call cache, and the denial and grant traces.
 */
export class AccessCore<R extends RoleDefinitions, P = never> {
  protected readonly graph: RoleGraph;
  protected readonly roleOf: RoleOf<RoleName<R>, P> | undefined;
  protected readonly profile: ProfileOf<P> | undefined;
  /** Profiles looked up in one function call, per ctx: at most one lookup per call. */
  private readonly profiles = new WeakMap<object, Promise<P | null>>();
  protected readonly audit: AuditSink | undefined;
  protected readonly limit: RateLimitConfig | undefined;
  protected readonly policy: RowPolicy;
  protected readonly gate: Gate;
  /** Roles this instance read in one function call, per ctx and scope: at most one read per (actor, scope) per call. */
  private readonly roleCache = new WeakMap<object, Map<string, Promise<Grants>>>();

  constructor(
    protected readonly component: ComponentApi,
    options: AccessOptions<R, P> & {
      roles: { [K in keyof R]: { inherits?: readonly RoleName<R>[] } };
    },
  ) {
    if (typeof options !== "object" || options === null)
      throw guardError(ErrorCode.INVALID_CONFIG, "options are required");
    this.graph = compileRoles(options.roles);
    if (options.roleOf !== undefined && typeof options.roleOf !== "function")
      throw guardError(ErrorCode.INVALID_CONFIG, "roleOf must be a function");
    if (options.profile !== undefined && typeof options.profile !== "function")
      throw guardError(ErrorCode.INVALID_CONFIG, "profile must be a function");
    if (options.audit !== undefined && typeof options.audit?.log !== "function")
      throw guardError(
        ErrorCode.INVALID_CONFIG,
        "audit must be an AuditLog (an object with a log method)",
      );
    if (options.limit !== undefined)
      assertDenialLimitConfig(options.limit, ErrorCode.INVALID_CONFIG);
    const rules = options.rules ?? {};
    if (typeof rules !== "object" || rules === null)
      throw guardError(ErrorCode.INVALID_CONFIG, "rules must be an object of table rules");
    for (const [table, rule] of Object.entries(rules)) {
      if (typeof rule !== "object" || rule === null)
        throw guardError(
          ErrorCode.INVALID_CONFIG,
          `rules.${table} must be { read?, write?, insert? }`,
        );
    }
    const publicTables = options.public ?? [];
    if (!Array.isArray(publicTables) || publicTables.some((t) => typeof t !== "string"))
      throw guardError(ErrorCode.INVALID_CONFIG, "public must be an array of table names");
    for (const table of publicTables)
      if (Object.prototype.hasOwnProperty.call(rules, table))
        throw guardError(
          ErrorCode.INVALID_CONFIG,
          `table ${table} has rules and is listed in public`,
        );
    this.roleOf = options.roleOf;
    this.profile = options.profile;
    this.audit = options.audit;
    this.limit = options.limit === undefined ? undefined : { ...options.limit };
    this.policy = new RowPolicy({ ...rules }, new Set(publicTables));
    this.gate = {
      policy: this.policy,
      admit: (ctx, checked) => this.admit(ctx, checked),
      recordDenial: (ctx, denial, checked) => this.recordDenial(ctx, denial, checked),
      share: (from, to) => {
        const cache = this.cacheOf(from);
        this.roleCache.set(to, cache);
        const profile = this.profiles.get(from);
        if (profile !== undefined) this.profiles.set(to, profile);
      },
    };
  }

  /**
   * The caller: the key an `ApiKeys` wrapper verified for this call (a
   * service actor), else the signed-in user, else null. Reads no document.
   */
  async actor(ctx: AuthCtx): Promise<Actor | null> {
    const key = verifiedApiKeyOf(ctx);
    if (key !== null)
      return {
        type: "service",
        id: key.keyId,
        name: key.name,
        owner: key.owner,
        scopes: [...key.scopes],
      };
    const identity = await ctx.auth.getUserIdentity();
    if (identity === null) return null;
    return {
      type: "user",
      id: identity.tokenIdentifier,
      subject: identity.subject,
      issuer: identity.issuer,
      ...(typeof identity.email === "string" ? { email: identity.email } : {}),
      ...(typeof identity.name === "string" ? { name: identity.name } : {}),
    };
  }

  /**
   * The actor with the app's profile attached (`profile` option): looked up
   * at most once per function call, from the actor alone. Without `profile`,
   * or in an action (no `ctx.db` to look it up in), the actor as is (no read).
   */
  protected async withProfile(ctx: AuthCtx, actor: Actor): Promise<ActorWith<P>> {
    if (this.profile === undefined || !hasDatabase(ctx)) return actor;
    let profile = this.profiles.get(ctx);
    if (profile === undefined) {
      profile = this.profile(ctx, actor);
      this.profiles.set(ctx, profile);
    }
    return { ...actor, profile: await profile };
  }

  /** The caller with their profile, or null when nobody is signed in. */
  protected async caller(ctx: AuthCtx): Promise<ActorWith<P> | null> {
    const actor = await this.actor(ctx);
    return actor === null ? null : this.withProfile(ctx, actor);
  }

  // ---- checks ----

  protected async admit(ctx: AuthCtx & RunQueryCtx, checked: Checked): Promise<Admission> {
    const identified = await this.actor(ctx);
    if (identified === null) return { ok: false, reason: "unauthenticated", actor: null };
    if (this.limit !== undefined) {
      const budget = await queryComponent(
        ctx,
        this.component.access.checkDenials,
        accessArgs.checkDenials,
        {
          actor: { type: identified.type, id: identified.id },
          limit: this.limit,
        },
      );
      if (!budget.ok)
        return {
          ok: false,
          reason: "rate_limited",
          retryAfter: budget.retryAfter,
          actor: identified,
        };
    }
    // After the denial limit: an actor over it is refused before the profile lookup too.
    const actor = await this.withProfile(ctx, identified);
    if (checked.permission === undefined) return { ok: true, actor };
    if (checked.scope !== undefined) assertScope(checked.scope);
    return (await this.holds(ctx, actor, checked.permission, checked.scope))
      ? { ok: true, actor }
      : { ok: false, reason: "forbidden", actor };
  }

  protected async holds(
    ctx: AuthCtx & RunQueryCtx,
    actor: ActorWith<P>,
    permission: string,
    scope: string | undefined,
  ): Promise<boolean> {
    const cache = this.cacheOf(ctx);
    const key = scope ?? "";
    let grants = cache.get(key);
    if (grants === undefined) {
      grants = this.readGrants(ctx, actor, scope);
      cache.set(key, grants);
    }
    return rolesHold(this.graph, activeRoles(await grants, Date.now()), permission);
  }

  /** The actor's roles in `scope`: from `roleOf` (no component read) or one indexed read of grants. */
  protected async readGrants(
    ctx: AuthCtx & RunQueryCtx,
    actor: ActorWith<P>,
    scope: string | undefined,
  ): Promise<Grants> {
    if (this.roleOf === undefined)
      return queryComponent(ctx, this.component.access.rolesOf, accessArgs.rolesOf, {
        actor: { type: actor.type, id: actor.id },
        ...(scope === undefined ? {} : { scope }),
      });
    const held = await this.roleOf(ctx as GenericQueryCtx<GenericDataModel>, actor, scope);
    const roles: readonly string[] =
      held === null || held === undefined ? [] : typeof held === "string" ? [held] : held;
    for (const role of roles)
      if (!this.graph.expanded.has(role))
        throw guardError(
          ErrorCode.INVALID_CONFIG,
          `roleOf returned unknown role ${JSON.stringify(role)}`,
        );
    return roles.map((role) => ({ role }));
  }

  /** Drops the roles read in this call (after a grant or revoke changed them). */
  protected forget(ctx: object): void {
    // Cleared, not dropped: a wrapper's handler ctx shares this map with the ctx it was made from.
    this.roleCache.get(ctx)?.clear();
  }

  protected cacheOf(ctx: object): Map<string, Promise<Grants>> {
    let cache = this.roleCache.get(ctx);
    if (cache === undefined) {
      cache = new Map();
      this.roleCache.set(ctx, cache);
    }
    return cache;
  }

  protected assertPermission(permission: unknown, code: ErrorCode = ErrorCode.INVALID_ARGUMENT) {
    assertPermissionName(permission, "permission", code);
    if (!this.graph.permissions.has(permission))
      throw guardError(code, `unknown permission ${JSON.stringify(permission)}`, { permission });
  }

  protected assertStoredGrants(): void {
    if (this.roleOf !== undefined)
      throw guardError(
        ErrorCode.INVALID_CONFIG,
        "roles come from roleOf: this Access stores no grants",
      );
  }

  protected assertGrantArgs(args: { actor: ActorRef; role: string; scope?: string }): void {
    if (typeof args !== "object" || args === null)
      throw guardError(ErrorCode.INVALID_ARGUMENT, "grant arguments must be an object");
    assertActorRef(args.actor);
    assertRoleName(args.role);
    assertKnownRole(args.role, this.graph.roles);
    if (args.scope !== undefined) assertScope(args.scope);
  }

  // ---- traces ----

  protected async recordDenial(
    ctx: RunMutationCtx,
    denial: Admission & { ok: false },
    checked: Checked,
  ): Promise<void> {
    // Over the limit: refused without a trace, which is what bounds a prober's traces. Not
    // signed in: no actor to attribute or count the denial to (a shared counter would be a hot
    // document), and the caller learns nothing a sign-in page would not say.
    if (denial.reason === "rate_limited" || denial.actor === null) return;
    if (this.limit !== undefined)
      await mutateComponent(ctx, this.component.access.recordDenial, accessArgs.recordDenial, {
        actor: { type: denial.actor.type, id: denial.actor.id },
        limit: this.limit,
      });
    if (this.audit === undefined) return;
    const target =
      checked.table !== undefined
        ? { type: "table", id: checked.table }
        : checked.permission !== undefined
          ? { type: "permission", id: checked.permission }
          : undefined;
    await this.audit.log(ctx, {
      action: ACCESS_AUDIT_ACTIONS.deny,
      actor: auditActor(denial.actor),
      targets: target === undefined ? [] : [target],
      outcome: "denied",
      reason: denial.reason,
      severity: "warning",
      metadata: {
        ...(checked.scope === undefined ? {} : { scope: checked.scope }),
        ...(checked.permission === undefined ? {} : { permission: checked.permission }),
      },
    });
  }

  protected async record(
    ctx: AuthCtx & RunMutationCtx,
    action: (typeof ACCESS_AUDIT_ACTIONS)["grant" | "revoke"],
    args: { actor: ActorRef },
    metadata: Record<string, string | number>,
  ): Promise<void> {
    if (this.audit === undefined) return;
    const by = await this.actor(ctx);
    await this.audit.log(ctx, {
      action,
      actor: by === null ? GUARD_ACTOR : auditActor(by),
      targets: [{ type: args.actor.type, id: args.actor.id }],
      outcome: "success",
      metadata,
    });
  }
}

/** A query or mutation ctx (an action's has no `db`): where a profile can be looked up. */
function hasDatabase(ctx: AuthCtx): ctx is GenericQueryCtx<GenericDataModel> {
  return "db" in ctx && typeof ctx.db === "object" && ctx.db !== null;
}

function auditActor(actor: Actor): AuditActor {
  return actor.name === undefined
    ? { type: actor.type, id: actor.id }
    : { type: actor.type, id: actor.id, name: actor.name };
}
