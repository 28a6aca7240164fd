import type {
  ActionBuilder,
  DocumentByName,
  FunctionVisibility,
  GenericActionCtx,
  GenericDataModel,
  GenericDatabaseReader,
  GenericMutationCtx,
  GenericQueryCtx,
  MutationBuilder,
  QueryBuilder,
  RegisteredAction,
  RegisteredMutation,
  RegisteredQuery,
  TableNamesInDataModel,
} from "convex/server";
import type { GenericValidator, ObjectType, PropertyValidators } from "convex/values";
import { ErrorCode, guardError } from "../component/lib/errors.js";
import type { ActorRef, GrantInfo } from "../component/access/model.js";
import { assertActorRef, assertGrantExpiry, assertScope } from "../component/access/rules.js";
import type { RunMutationCtx, RunQueryCtx } from "./ctx.js";
import { accessFunction, markAccess, type FunctionKind } from "./accessFunctions.js";
import { AccessCore, type AuthCtx } from "./accessCore.js";
import { mutateComponent, optionsObject, queryComponent, requiredObject } from "./checkArgs.js";
import { accessArgs } from "../component/access/model.js";
import {
  ACCESS_AUDIT_ACTIONS,
  type AccessCheck,
  type AccessDenial,
  type ActorWith,
  type HeldRole,
  type PermissionOf,
  type RoleDefinitions,
  type RoleName,
  type WrapperOptions,
} from "./accessTypes.js";

export * from "./accessTypes.js";

/** What a wrapped mutation or action may return besides its handler's value. */
type DenialOf<D extends "result" | "throw"> = D extends "throw" ? never : AccessDenial;
export { ACCESS_MARKER, type AccessMarker } from "./accessMarker.js";

/**
 * Access control inside the host's functions: the actor from the verified
 * identity, typed roles and permissions (from the host's `roleOf` or from
 * grants the component stores, per scope, with expiry), function wrappers,
 * and row rules that answer a foreign row as a missing one.
 *
 * Throws (ConvexError with `data.code`) for bad configuration or input. A
 * denied wrapped mutation or action RETURNS `{ ok: false, reason }` so its
 * audit event commits; a denied query throws (queries cannot write, so their
 * denials are not logged).
 */
export class Access<const R extends RoleDefinitions, P = never> extends AccessCore<R, P> {
  async can(
    ctx: AuthCtx & RunQueryCtx,
    permission: PermissionOf<R>,
    opts: { scope?: string } = {},
  ): Promise<boolean> {
    return (await this.check(ctx, permission, opts)).ok;
  }

  /** The caller if they hold `permission` (in `scope`), else why not. Never throws for a denial. */
  async check(
    ctx: AuthCtx & RunQueryCtx,
    permission: PermissionOf<R>,
    opts: { scope?: string } = {},
  ): Promise<AccessCheck<P>> {
    this.assertPermission(permission);
    if (optionsObject(opts, "opts", ["scope"])?.scope !== undefined) assertScope(opts.scope);
    const actor = await this.caller(ctx);
    if (actor === null) return { ok: false, reason: "unauthenticated" };
    return (await this.holds(ctx, actor, permission, opts.scope))
      ? { ok: true, actor }
      : { ok: false, reason: "forbidden" };
  }

  /**
   * Grants `role` to `actor` in `scope` (until `expiresAt`): one read, at most
   * one write, and an audit event naming the caller as the granter. Granting
   * a held role again replaces its expiry. Throws INVALID_ARGUMENT / TOO_LARGE
   * for an unknown role, a bad actor or scope, an expiry not in the future;
   * INVALID_CONFIG when roles come from `roleOf`.
   */
  async grant(
    ctx: AuthCtx & RunMutationCtx,
    args: { actor: ActorRef; role: RoleName<R>; scope?: string; expiresAt?: number },
  ): Promise<{ changed: boolean; grantedAt: number }> {
    this.assertStoredGrants();
    requiredObject(args, "args", ["actor", "role", "scope", "expiresAt"]);
    requiredObject(args.actor, "actor", ["type", "id"]);
    this.assertGrantArgs(args);
    if (args.expiresAt !== undefined) assertGrantExpiry(args.expiresAt, Date.now());
    const r = await mutateComponent(ctx, this.component.access.grant, accessArgs.grant, {
      actor: { type: args.actor.type, id: args.actor.id },
      role: args.role,
      ...(args.scope === undefined ? {} : { scope: args.scope }),
      ...(args.expiresAt === undefined ? {} : { expiresAt: args.expiresAt }),
      declaredRoles: [...this.graph.roles],
    });
    this.forget(ctx);
    if (r.changed)
      await this.record(ctx, ACCESS_AUDIT_ACTIONS.grant, args, {
        role: args.role,
        ...(args.scope === undefined ? {} : { scope: args.scope }),
        ...(args.expiresAt === undefined ? {} : { expiresAt: args.expiresAt }),
      });
    return r;
  }

  /** Removes a grant (one read, at most one write, an audit event when a live grant went). */
  async revoke(
    ctx: AuthCtx & RunMutationCtx,
    args: { actor: ActorRef; role: RoleName<R>; scope?: string },
  ): Promise<{ revoked: boolean }> {
    this.assertStoredGrants();
    requiredObject(args, "args", ["actor", "role", "scope"]);
    requiredObject(args.actor, "actor", ["type", "id"]);
    this.assertGrantArgs(args);
    const r = await mutateComponent(ctx, this.component.access.revoke, accessArgs.revoke, {
      actor: { type: args.actor.type, id: args.actor.id },
      role: args.role,
      ...(args.scope === undefined ? {} : { scope: args.scope }),
      declaredRoles: [...this.graph.roles],
    });
    this.forget(ctx);
    if (r.revoked)
      await this.record(ctx, ACCESS_AUDIT_ACTIONS.revoke, args, {
        role: args.role,
        ...(args.scope === undefined ? {} : { scope: args.scope }),
      });
    return r;
  }

  /** The stored grants of `actor` in force in `scope` (or outside any scope). One indexed read. */
  async rolesOf(
    ctx: RunQueryCtx,
    actor: ActorRef,
    opts: { scope?: string } = {},
  ): Promise<HeldRole<RoleName<R>>[]> {
    this.assertStoredGrants();
    requiredObject(actor, "actor", ["type", "id"]);
    assertActorRef(actor);
    if (optionsObject(opts, "opts", ["scope"])?.scope !== undefined) assertScope(opts.scope);
    const grants: GrantInfo[] = await queryComponent(
      ctx,
      this.component.access.rolesOf,
      accessArgs.rolesOf,
      {
        actor: { type: actor.type, id: actor.id },
        ...(opts.scope === undefined ? {} : { scope: opts.scope }),
      },
    );
    // A role no longer declared grants nothing: leave it out.
    return grants.filter((g) => this.graph.expanded.has(g.role)) as HeldRole<RoleName<R>>[];
  }

  /**
   * For unwrapped code: the row if it exists and the caller may read it, else
   * null (a foreign, missing or malformed id alike). Reads at most the row.
   */
  async get<DataModel extends GenericDataModel, T extends TableNamesInDataModel<DataModel>>(
    ctx: AuthCtx & { db: GenericDatabaseReader<DataModel> },
    table: T,
    id: string,
  ): Promise<DocumentByName<DataModel, T> | null> {
    const actor = await this.caller(ctx);
    if (actor === null) return null;
    return (await this.policy.readable(ctx.db, actor, table, id)) as DocumentByName<
      DataModel,
      T
    > | null;
  }

  /** `get`, or one NOT_FOUND for a missing and a foreign row alike. */
  async require<DataModel extends GenericDataModel, T extends TableNamesInDataModel<DataModel>>(
    ctx: AuthCtx & { db: GenericDatabaseReader<DataModel> },
    table: T,
    id: string,
  ): Promise<DocumentByName<DataModel, T>> {
    const doc = await this.get(ctx, table, id);
    if (doc === null) throw guardError(ErrorCode.NOT_FOUND, `${table} not found`, { table });
    return doc;
  }

  /**
   * A query builder whose functions run only for an admitted actor, with
   * `ctx.actor` and a rule-enforcing `ctx.db`. A denial THROWS a coded
   * ConvexError (UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED) and is not logged.
   */
  query<DataModel extends GenericDataModel, Visibility extends FunctionVisibility>(
    builder: QueryBuilder<DataModel, Visibility>,
    options: WrapperOptions<PermissionOf<R>, any> = {},
  ) {
    return <Args extends PropertyValidators, Output>(def: {
      args: Args;
      returns?: GenericValidator | PropertyValidators;
      handler: (
        ctx: GenericQueryCtx<DataModel> & { actor: ActorWith<P> },
        args: ObjectType<Args>,
      ) => Output | Promise<Output>;
    }): RegisteredQuery<Visibility, ObjectType<Args>, Promise<Awaited<Output>>> =>
      this.register("query", builder, def, options);
  }

  /**
   * A mutation builder: the same, and a denial (permission, row rule, limit)
   * is RETURNED as `{ ok: false, reason }` and audited, unless `onDenied:
   * "throw"`. A row rule refusal after the handler already wrote (or
   * scheduled, stored, or ran another function) throws instead, so no
   * half-done change commits. With `returns`, the validator
   * accepts the denial too.
   */
  mutation<
    DataModel extends GenericDataModel,
    Visibility extends FunctionVisibility,
    D extends "result" | "throw" = "result",
  >(
    builder: MutationBuilder<DataModel, Visibility>,
    options: WrapperOptions<PermissionOf<R>, any> & { onDenied?: D } = {},
  ) {
    return <Args extends PropertyValidators, Output>(def: {
      args: Args;
      returns?: GenericValidator | PropertyValidators;
      handler: (
        ctx: GenericMutationCtx<DataModel> & { actor: ActorWith<P> },
        args: ObjectType<Args>,
      ) => Output | Promise<Output>;
    }): RegisteredMutation<Visibility, ObjectType<Args>, Promise<Awaited<Output> | DenialOf<D>>> =>
      this.register("mutation", builder, def, options);
  }

  /** An action builder: `ctx.actor`, denials returned and audited as for mutations (actions have no `ctx.db`). */
  action<
    DataModel extends GenericDataModel,
    Visibility extends FunctionVisibility,
    D extends "result" | "throw" = "result",
  >(
    builder: ActionBuilder<DataModel, Visibility>,
    options: WrapperOptions<PermissionOf<R>, any> & { onDenied?: D } = {},
  ) {
    return <Args extends PropertyValidators, Output>(def: {
      args: Args;
      returns?: GenericValidator | PropertyValidators;
      handler: (
        ctx: GenericActionCtx<DataModel> & { actor: ActorWith<P> },
        args: ObjectType<Args>,
      ) => Output | Promise<Output>;
    }): RegisteredAction<Visibility, ObjectType<Args>, Promise<Awaited<Output> | DenialOf<D>>> =>
      this.register("action", builder, def, options);
  }

  private register<F extends object>(
    kind: FunctionKind,
    builder: (definition: any) => F,
    def: {
      args: PropertyValidators;
      returns?: GenericValidator | PropertyValidators;
      handler: (ctx: any, args: any) => unknown;
    },
    options: WrapperOptions<string, any>,
  ): any {
    if (typeof options !== "object" || options === null)
      throw guardError(ErrorCode.INVALID_CONFIG, "wrapper options must be an object");
    if (options.permission !== undefined)
      this.assertPermission(options.permission, ErrorCode.INVALID_CONFIG);
    if (typeof options.scope === "string") assertScope(options.scope);
    else if (options.scope !== undefined && typeof options.scope !== "function")
      throw guardError(
        ErrorCode.INVALID_CONFIG,
        "scope must be a string or a function of the args",
      );
    if (options.scope !== undefined && options.permission === undefined)
      throw guardError(ErrorCode.INVALID_CONFIG, "a scope needs a permission to check in it");
    const { definition, marker } = accessFunction(
      kind,
      def,
      {
        ...(options.permission === undefined ? {} : { permission: options.permission }),
        ...(options.scope === undefined ? {} : { scope: options.scope }),
        onDenied: options.onDenied ?? "result",
      },
      this.gate,
    );
    return markAccess(builder(definition), marker);
  }
}
