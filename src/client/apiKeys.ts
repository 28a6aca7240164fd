import {
  httpActionGeneric,
  type FunctionVisibility,
  type GenericActionCtx,
  type GenericDataModel,
  type GenericMutationCtx,
  type GenericQueryCtx,
  type MutationBuilder,
  type PaginationOptions,
  type PaginationResult,
  type PublicHttpAction,
  type QueryBuilder,
  type RegisteredMutation,
  type RegisteredQuery,
} from "convex/server";
import type { GenericValidator, ObjectType, PropertyValidators } from "convex/values";
import type { ComponentApi } from "../component/_generated/component.js";
import { assertWriteCtx, type RunMutationCtx, type RunQueryCtx } from "./ctx.js";
import { ErrorCode, guardError } from "../component/lib/errors.js";
import { DAY } from "../component/lib/time.js";
import { assertNoNullFields } from "../component/lib/validate.js";
import type { RateLimitConfig } from "../component/rateLimits/model.js";
import { digestSecret, generateKey, parseKey } from "../component/apiKeys/format.js";
import {
  type ApiKeyDenial,
  type ApiKeyInfo,
  type ApiKeyOwner,
  type ComponentVerifyResult,
  type DenialDetail,
  apiKeyArgs,
} from "../component/apiKeys/model.js";
import {
  DEFAULT_DENIAL_LIMIT,
  DEFAULT_MAX_KEYS_PER_OWNER,
  DEFAULT_OVERLAP,
  DEFAULT_RETENTION,
  MAX_DECLARED_SCOPES,
  MAX_KEY_SCOPES,
  assertCallLimit,
  assertDenialLimit,
  assertExpiresAt,
  assertKeyId,
  assertKeyName,
  assertKnownScopes,
  assertMaxKeysPerOwner,
  assertOverlap,
  assertOwner,
  assertPrefix,
  assertRetention,
  assertScopeList,
  type DenialLimit,
} from "../component/apiKeys/rules.js";
import { apiKeyFunction, markApiKeyFunction } from "./apiKeyFunctions.js";
import { GUARD_ACTOR, type AuditSink, type GuardAuditEvent } from "./auditSink.js";
import { mutateComponent, queryComponent, requiredObject } from "./checkArgs.js";
import { apiKeyResponse, bearerToken } from "./apiKeysHttp.js";
import {
  API_KEY_AUDIT_ACTIONS,
  type ApiKeyActor,
  type ApiKeyVerifyResult,
  type ApiKeysOptions,
  type CreateApiKeyArgs,
  type CreatedApiKey,
  type RotatedApiKey,
  type VerifiedApiKey,
} from "./apiKeyTypes.js";

export * from "./apiKeyTypes.js";

/** A method's arguments: an object in which no field is null (an omitted field means its default). */
function assertArgs(args: unknown): void {
  if (typeof args !== "object" || args === null)
    throw guardError(ErrorCode.INVALID_ARGUMENT, "arguments must be an object");
  assertNoNullFields(args);
}

/**
 * Hashed, scoped, rotatable keys for server-to-server calls, verified inside
 * the host's transaction. Keys are generated and digested here, host-side;
 * the component stores and compares SHA-256 digests only.
 *
 * Throws (ConvexError with `data.code`) only for bad configuration or input;
 * every verification outcome is returned, so its trace persists.
 */
export class ApiKeys<S extends string = string> {
  private readonly prefix: string;
  private readonly scopes: S[];
  private readonly limit: RateLimitConfig | undefined;
  private readonly audit: AuditSink | undefined;
  private readonly denialLimit: DenialLimit;
  private readonly retention: number;
  private readonly maxKeysPerOwner: number;

  constructor(
    private readonly component: ComponentApi,
    options: ApiKeysOptions<S>,
  ) {
    if (typeof options !== "object" || options === null)
      throw guardError(ErrorCode.INVALID_CONFIG, "options are required");
    assertNoNullFields(options, ErrorCode.INVALID_CONFIG);
    assertPrefix(options.prefix);
    assertScopeList(options.scopes, "scopes", MAX_DECLARED_SCOPES, ErrorCode.INVALID_CONFIG);
    if (options.limit !== undefined) assertCallLimit(options.limit);
    const denialLimit = options.denialLimit ?? DEFAULT_DENIAL_LIMIT;
    assertDenialLimit(denialLimit, ErrorCode.INVALID_CONFIG);
    const retention =
      options.retention === undefined ? DEFAULT_RETENTION : options.retention.days * DAY;
    assertRetention(retention, ErrorCode.INVALID_CONFIG);
    const maxKeysPerOwner = options.maxKeysPerOwner ?? DEFAULT_MAX_KEYS_PER_OWNER;
    assertMaxKeysPerOwner(maxKeysPerOwner, ErrorCode.INVALID_CONFIG);
    if (options.audit !== undefined && typeof options.audit?.log !== "function") {
      throw guardError(
        ErrorCode.INVALID_CONFIG,
        "audit must be an AuditLog (an object with a log method)",
      );
    }
    this.prefix = options.prefix;
    this.scopes = [...options.scopes];
    this.limit = options.limit === undefined ? undefined : { ...options.limit };
    this.audit = options.audit;
    this.denialLimit = { rate: denialLimit.rate, period: denialLimit.period };
    this.retention = retention;
    this.maxKeysPerOwner = maxKeysPerOwner;
  }

  /**
   * Creates a key and returns it in plaintext: the only time it exists. Show
   * it once; never store it, log it or pass it through the scheduler. Throws
   * INVALID_ARGUMENT / TOO_LARGE for a bad name, owner, scope or expiry,
   * TOO_LARGE when the owner has `maxKeysPerOwner` keys.
   */
  async create(ctx: RunMutationCtx, args: CreateApiKeyArgs<S>): Promise<CreatedApiKey> {
    assertWriteCtx(ctx, "ApiKeys.create", "verify (it only reads there), get or list");
    assertArgs(args);
    requiredObject(args, "args", ["name", "owner", "scopes", "expiresAt", "actor"]);
    requiredObject(args.owner, "owner", ["type", "id"]);
    assertKeyName(args.name);
    assertOwner(args.owner);
    assertScopeList(args.scopes, "scopes", MAX_KEY_SCOPES);
    assertKnownScopes(args.scopes, this.scopes);
    if (args.expiresAt !== undefined) assertExpiresAt(args.expiresAt, Date.now());
    const { keyId, secret, key } = generateKey(this.prefix);
    const created = await mutateComponent(ctx, this.component.apiKeys.create, apiKeyArgs.create, {
      keyId,
      digest: await digestSecret(this.prefix, keyId, secret),
      prefix: this.prefix,
      name: args.name,
      owner: { type: args.owner.type, id: args.owner.id },
      scopes: [...args.scopes],
      declaredScopes: this.scopes,
      ...(args.expiresAt === undefined ? {} : { expiresAt: args.expiresAt }),
      retention: this.retention,
      maxKeysPerOwner: this.maxKeysPerOwner,
    });
    await this.record(ctx, API_KEY_AUDIT_ACTIONS.create, args.actor, keyId, args.name, {
      owner: `${args.owner.type}:${args.owner.id}`,
      scopes: [...args.scopes],
      ...(args.expiresAt === undefined ? {} : { expiresAt: args.expiresAt }),
    });
    return { ...created, key };
  }

  /**
   * Checks `key` (and `scope`, when given). In a mutation or action: consumes
   * the per-key limit, counts and audits denials, records lastUsedAt at most
   * once a minute. In a query: reads only (the limit is checked, not
   * consumed; denials are neither counted nor audited). A malformed key is
   * refused here without a database read. Never throws for a bad key; throws
   * INVALID_ARGUMENT for an undeclared scope.
   */
  async verify(
    ctx: RunQueryCtx | RunMutationCtx,
    args: { key: string; scope?: S },
  ): Promise<ApiKeyVerifyResult<S>> {
    // A null or missing key is a refusal (it comes from the caller's request); a null scope is ours.
    assertNoNullFields({ scope: args?.scope });
    requiredObject(args, "args", ["key", "scope"], ["key"]);
    if (args.scope !== undefined) assertKnownScopes([args.scope], this.scopes);
    const parsed = parseKey(args?.key, this.prefix);
    if (parsed === null) return { ok: false, reason: "malformed" };
    const call = {
      keyId: parsed.keyId,
      digest: await digestSecret(this.prefix, parsed.keyId, parsed.secret),
      ...(args.scope === undefined ? {} : { scope: args.scope }),
      ...(this.limit === undefined ? {} : { limit: this.limit }),
      denialLimit: this.denialLimit,
      audit: this.audit !== undefined,
    };
    const r: ComponentVerifyResult =
      "runMutation" in ctx && typeof ctx.runMutation === "function"
        ? await mutateComponent(ctx, this.component.apiKeys.verify, apiKeyArgs.verify, call)
        : await queryComponent(ctx, this.component.apiKeys.check, apiKeyArgs.check, call);
    if (r.ok)
      return { ok: true, keyId: r.keyId, name: r.name, owner: r.owner, scopes: r.scopes as S[] };
    if (r.audit && "runMutation" in ctx)
      await this.recordDenial(ctx as RunMutationCtx, r.keyId, r.detail, args.scope);
    return r.retryAfter === undefined
      ? { ok: false, reason: r.reason }
      : { ok: false, reason: r.reason, retryAfter: r.retryAfter };
  }

  /**
   * Gives the key a new secret and returns the new key (once, in plaintext).
   * Id, name, owner and scopes stay; the old key keeps working for `overlap`
   * ms (default one day, at most 30 days), then only the new one does.
   * Throws NOT_FOUND, or INVALID_ARGUMENT for a revoked or expired key.
   */
  async rotate(
    ctx: RunMutationCtx,
    args: { keyId: string; overlap?: number; actor?: ApiKeyActor },
  ): Promise<RotatedApiKey> {
    assertWriteCtx(ctx, "ApiKeys.rotate", "verify (it only reads there), get or list");
    assertArgs(args);
    requiredObject(args, "args", ["keyId", "overlap", "actor"]);
    assertKeyId(args.keyId);
    const overlap = args.overlap ?? DEFAULT_OVERLAP;
    assertOverlap(overlap);
    const { secret, key } = generateKey(this.prefix, args.keyId);
    const rotated = await mutateComponent(ctx, this.component.apiKeys.rotate, apiKeyArgs.rotate, {
      keyId: args.keyId,
      digest: await digestSecret(this.prefix, args.keyId, secret),
      prefix: this.prefix,
      overlap,
    });
    await this.record(ctx, API_KEY_AUDIT_ACTIONS.rotate, args.actor, args.keyId, undefined, {
      previousValidUntil: rotated.previousValidUntil,
    });
    return { ...rotated, key };
  }

  /** Revokes the key; it is refused from this transaction on. Throws NOT_FOUND for an unknown key id. */
  async revoke(
    ctx: RunMutationCtx,
    args: { keyId: string; actor?: ApiKeyActor },
  ): Promise<{ revoked: boolean }> {
    assertWriteCtx(ctx, "ApiKeys.revoke", "verify (it only reads there), get or list");
    assertArgs(args);
    requiredObject(args, "args", ["keyId", "actor"]);
    assertKeyId(args.keyId);
    const r = await mutateComponent(ctx, this.component.apiKeys.revoke, apiKeyArgs.revoke, {
      keyId: args.keyId,
    });
    if (r.revoked) await this.record(ctx, API_KEY_AUDIT_ACTIONS.revoke, args.actor, args.keyId);
    return r;
  }

  /** Deletes the key's metadata now (a live key stops working too). */
  async remove(
    ctx: RunMutationCtx,
    args: { keyId: string; actor?: ApiKeyActor },
  ): Promise<{ removed: boolean }> {
    assertWriteCtx(ctx, "ApiKeys.remove", "verify (it only reads there), get or list");
    assertArgs(args);
    requiredObject(args, "args", ["keyId", "actor"]);
    assertKeyId(args.keyId);
    const r = await mutateComponent(ctx, this.component.apiKeys.remove, apiKeyArgs.remove, {
      keyId: args.keyId,
    });
    if (r.removed) await this.record(ctx, API_KEY_AUDIT_ACTIONS.remove, args.actor, args.keyId);
    return r;
  }

  /** One key's metadata (never the key or its digest), or null. */
  async get(ctx: RunQueryCtx, args: { keyId: string }): Promise<ApiKeyInfo | null> {
    assertArgs(args);
    requiredObject(args, "args", ["keyId"]);
    assertKeyId(args.keyId);
    return queryComponent(ctx, this.component.apiKeys.get, apiKeyArgs.get, { keyId: args.keyId });
  }

  /** A page of key metadata, newest first, of one owner or all. Never a key or a digest. */
  async list(
    ctx: RunQueryCtx,
    args: { owner?: ApiKeyOwner; paginationOpts: PaginationOptions },
  ): Promise<PaginationResult<ApiKeyInfo>> {
    assertArgs(args);
    requiredObject(args, "args", ["owner", "paginationOpts"]);
    if (args.owner !== undefined) {
      requiredObject(args.owner, "owner", ["type", "id"]);
      assertOwner(args.owner);
    }
    return queryComponent(ctx, this.component.apiKeys.list, apiKeyArgs.list, {
      ...(args.owner === undefined ? {} : { owner: { type: args.owner.type, id: args.owner.id } }),
      paginationOpts: args.paginationOpts,
    });
  }

  /**
   * A mutation builder whose functions take an `apiKey` argument, verify it
   * (with `scope`), remove it from `args` and put the key in `ctx.apiKey`. A
   * refused key RETURNS an `ApiKeyDenial` instead of running the handler
   * (`isApiKeyDenial` tells them apart): a throw would roll back the denial's
   * count and audit event. With `returns`, the validator accepts the denial too.
   */
  mutation<DataModel extends GenericDataModel, Visibility extends FunctionVisibility>(
    builder: MutationBuilder<DataModel, Visibility>,
    options: { scope?: S } = {},
  ) {
    return <Args extends PropertyValidators, Output>(def: {
      args: Args;
      returns?: GenericValidator | PropertyValidators;
      handler: (
        ctx: GenericMutationCtx<DataModel> & { apiKey: VerifiedApiKey<S> },
        args: ObjectType<Args>,
      ) => Output | Promise<Output>;
    }): RegisteredMutation<
      Visibility,
      ObjectType<Args> & { apiKey: string },
      Promise<Awaited<Output> | ApiKeyDenial>
    > =>
      markApiKeyFunction(
        (builder as (d: unknown) => RegisteredMutation<Visibility, any, any>)(
          apiKeyFunction(def, options.scope, this.scopes, (ctx, args) => this.verify(ctx, args)),
        ),
      );
  }

  /** The same for queries: the key is checked read-only (see `verify`). */
  query<DataModel extends GenericDataModel, Visibility extends FunctionVisibility>(
    builder: QueryBuilder<DataModel, Visibility>,
    options: { scope?: S } = {},
  ) {
    return <Args extends PropertyValidators, Output>(def: {
      args: Args;
      returns?: GenericValidator | PropertyValidators;
      handler: (
        ctx: GenericQueryCtx<DataModel> & { apiKey: VerifiedApiKey<S> },
        args: ObjectType<Args>,
      ) => Output | Promise<Output>;
    }): RegisteredQuery<
      Visibility,
      ObjectType<Args> & { apiKey: string },
      Promise<Awaited<Output> | ApiKeyDenial>
    > =>
      markApiKeyFunction(
        (builder as (d: unknown) => RegisteredQuery<Visibility, any, any>)(
          apiKeyFunction(def, options.scope, this.scopes, (ctx, args) => this.verify(ctx, args)),
        ),
      );
  }

  /**
   * An HTTP action that reads `Authorization: Bearer <key>` and runs `handler`
   * only for a valid key. Refusals carry no detail that helps guessing: 401
   * for a missing, malformed, unknown, expired or revoked key, 403 for a
   * missing scope, 429 with Retry-After when rate-limited.
   */
  httpAction(
    handler: (
      ctx: GenericActionCtx<GenericDataModel>,
      request: Request,
      apiKey: VerifiedApiKey<S>,
    ) => Promise<Response>,
    options: { scope?: S } = {},
  ): PublicHttpAction {
    if (options.scope !== undefined) assertKnownScopes([options.scope], this.scopes);
    return markApiKeyFunction(
      httpActionGeneric(async (ctx, request) => {
        const key = bearerToken(request);
        const r =
          key === null
            ? ({ ok: false, reason: "malformed" } as const)
            : await this.verify(ctx, { key, ...options });
        if (!r.ok) return apiKeyResponse(r);
        return handler(ctx, request, {
          keyId: r.keyId,
          name: r.name,
          owner: r.owner,
          scopes: r.scopes,
        });
      }),
    );
  }

  private async recordDenial(
    ctx: RunMutationCtx,
    keyId: string,
    detail: DenialDetail,
    scope: string | undefined,
  ) {
    // The component asks for a denial record only when `verify` sent `audit: true`, i.e. an audit log is set.
    if (this.audit === undefined) return;
    await this.audit.log(ctx, {
      action: API_KEY_AUDIT_ACTIONS.deny,
      actor: { type: "apiKey", id: keyId },
      targets: detail === "unknown_key" ? [] : [{ type: "apiKey", id: keyId }],
      outcome: "denied",
      reason: detail,
      severity: detail === "wrong_secret" || detail === "unknown_key" ? "warning" : "info",
      metadata: scope === undefined ? {} : { scope },
    });
  }

  /** One audit event about a key, without the key, its secret or its digest. */
  private async record(
    ctx: RunMutationCtx,
    action: GuardAuditEvent["action"],
    actor: ApiKeyActor | undefined,
    keyId: string,
    name?: string,
    metadata: Record<string, unknown> = {},
  ): Promise<void> {
    if (this.audit === undefined) return;
    await this.audit.log(ctx, {
      action,
      actor: actor ?? GUARD_ACTOR,
      targets: [{ type: "apiKey", id: keyId, ...(name === undefined ? {} : { name }) }],
      outcome: "success",
      metadata,
    });
  }
}
