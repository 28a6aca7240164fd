import {
  mutationGeneric,
  queryGeneric,
  type GenericDataModel,
  type GenericQueryCtx,
  type PaginationOptions,
  type PaginationResult,
} from "convex/server";
import { v } from "convex/values";
import type { ComponentApi } from "../component/_generated/component.js";
import {
  blockKey,
  listBlocks,
  readStats,
  unblockKey,
  type Block,
  type BlockOptions,
  type StatsArgs,
  type StatsResult,
  type UnblockOptions,
} from "./rateLimitAdmin.js";
import type {
  HookOptions,
  LimitAllRequest,
  MutationCtx,
  RateLimitOptions,
} from "./rateLimiterTypes.js";
import { assertWriteCtx, type RunMutationCtx, type RunQueryCtx } from "./ctx.js";
import {
  assertArgs,
  configObject,
  mutateComponent,
  optionsObject,
  queryComponent,
  requiredObject,
} from "./checkArgs.js";
import { ErrorCode, guardError } from "../component/lib/errors.js";
import { assertLimitName, normalizeConfig } from "../component/rateLimits/config.js";
import {
  applyUpdatesOf,
  vGetValueResult,
  vRateLimitConfig,
  type GetValueResult,
  type LimitAllResult,
  type RateLimitConfig,
  type RateLimitResult,
  rateLimitArgs,
} from "../component/rateLimits/model.js";

export type {
  FixedWindowConfig,
  GetValueResult,
  LimitAllResult,
  QuotaConfig,
  RateLimitConfig,
  RateLimitResult,
  SlidingWindowConfig,
  TokenBucketConfig,
} from "../component/rateLimits/model.js";
export * from "./rateLimiterTypes.js";
export {
  RATE_LIMIT_AUDIT_ACTIONS,
  type AuditOptions,
  type Block,
  type BlockOptions,
  type RateLimitActor,
  type StatsArgs,
  type StatsResult,
  type UnblockOptions,
} from "./rateLimitAdmin.js";
export { projectRemaining } from "../component/rateLimits/math.js";
export { calculateRateLimit, type CalculatedRateLimit } from "../component/rateLimits/calculate.js";

/** A ctx that has a mutation's shape (`runMutation` and `meta`); an action's has no `meta`. */
function hasMutationShape(ctx: object): ctx is Pick<MutationCtx, "runQuery" | "meta"> {
  return "runMutation" in ctx && "meta" in ctx;
}

/**
 * `ctx` if it is a mutation's (only there can a nested query use a stale
 * snapshot), else null.
 */
async function mutationReader(ctx: object): Promise<Pick<MutationCtx, "runQuery"> | null> {
  if (!hasMutationShape(ctx)) return null;
  return (await ctx.meta.getFunctionMetadata()).type === "mutation" ? ctx : null;
}

/** The fields each options object may have (any other is INVALID_ARGUMENT, never ignored). */
const LIMIT_FIELDS = ["key", "count", "throws", "reserve", "maxReserved", "config"] as const;
const REQUEST_FIELDS = ["name", "key", "count", "reserve", "config"] as const;
const AUDIT_FIELDS = ["audit", "actor"] as const;
const BLOCK_FIELDS = ["key", "until", "reason", "config", ...AUDIT_FIELDS] as const;
const UNBLOCK_FIELDS = ["key", "config", ...AUDIT_FIELDS] as const;
const STATS_FIELDS = ["name", "key", "from", "to", "top", "timeZone", "config"] as const;

/** Configs already checked host side (each object once: constructor configs and inline ones). */
const checkedConfigs = new WeakSet<object>();

/**
 * Checks a config completely, host side, so a bad one fails where it is
 * written (INVALID_CONFIG naming the field) rather than as a raw argument
 * validator error at the first call. Everything else about a call (name, key,
 * count, values) is the component's to check.
 */
function assertConfig(config: RateLimitConfig, name: string): void {
  if (typeof config === "object" && config !== null && checkedConfigs.has(config)) return;
  normalizeConfig(config, name, false);
  checkedConfigs.add(config);
}

/**
 * Typed rate limits, checked inside the caller's own transaction.
 *
 * ```ts
 * const limiter = new RateLimiter(components.guard, {
 *   sendMessage: { kind: "sliding window", rate: 10, period: MINUTE },
 * });
 * const { ok, retryAfter } = await limiter.limit(ctx, "sendMessage", { key: userId });
 * ```
 *
 * Calls throw only for bad input (`ConvexError` with `data.code`) or, with
 * `throws: true`, when denied. The component checks every argument; the
 * client checks only configs (at construction, or when first given inline)
 * and that a name without a config is one it knows.
 */
export class RateLimiter<Limits extends Record<string, RateLimitConfig> = Record<never, never>> {
  constructor(
    public readonly component: ComponentApi,
    public readonly limits: Limits = {} as Limits,
  ) {
    // Each config is checked below (a null field there is INVALID_CONFIG too).
    for (const [name, config] of Object.entries(
      configObject(limits, "limits", Object.keys(limits ?? {})),
    )) {
      assertLimitName(name);
      assertConfig(config, name);
    }
  }

  /**
   * Consume `count` (default 1) tokens if allowed: `{ ok: true }` or `{ ok: false, retryAfter }` (ms).
   * Throws UNKNOWN_LIMIT, INVALID_ARGUMENT (bad or reserved `guard:` name, key, count), INVALID_CONFIG,
   * TOO_LARGE (a key over 256 bytes, a count no call could take); with `throws: true`, RATE_LIMITED
   * when denied.
   */
  limit<Name extends keyof Limits & string>(
    ctx: RunMutationCtx,
    name: Name,
    options?: RateLimitOptions & { config?: RateLimitConfig },
  ): Promise<RateLimitResult>;
  limit(
    ctx: RunMutationCtx,
    name: string,
    options: RateLimitOptions & { config: RateLimitConfig },
  ): Promise<RateLimitResult>;
  limit(
    ctx: RunMutationCtx,
    name: string,
    ...options: [(RateLimitOptions & { config?: RateLimitConfig })?]
  ): Promise<RateLimitResult> {
    // Not async: the component call's own promise is the result (a throw below rejects it).
    try {
      assertWriteCtx(ctx, "RateLimiter.limit", "check or getValue");
      const args = this.limitArgs(name, optionsObject(options[0], "options", LIMIT_FIELDS));
      return mutateComponent(ctx, this.component.rateLimits.limit, rateLimitArgs.limit, args);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** Would `limit` succeed now? Consumes nothing; works in queries. Throws as `limit` does. */
  check<Name extends keyof Limits & string>(
    ctx: RunQueryCtx,
    name: Name,
    options?: RateLimitOptions & { config?: RateLimitConfig },
  ): Promise<RateLimitResult>;
  check(
    ctx: RunQueryCtx,
    name: string,
    options: RateLimitOptions & { config: RateLimitConfig },
  ): Promise<RateLimitResult>;
  async check(
    ctx: RunQueryCtx,
    name: string,
    ...options: [(RateLimitOptions & { config?: RateLimitConfig })?]
  ): Promise<RateLimitResult> {
    const args = this.limitArgs(name, optionsObject(options[0], "options", LIMIT_FIELDS));
    assertArgs(rateLimitArgs.check, args);
    const stale = applyUpdatesOf(args.config) === "asynchronously" && (await mutationReader(ctx));
    if (stale) {
      // Like `limit`: read without a read dependency, so hot keys never conflict.
      return stale.runQuery(this.component.rateLimits.check, args, { useStaleSnapshot: true });
    }
    return ctx.runQuery(this.component.rateLimits.check, args);
  }

  /**
   * All or nothing: consumes every request only if each one is admitted. The
   * result lists each request's outcome; `retryAfter` is the latest denial's.
   * Throws as `limit` does for any bad request (consuming nothing), and
   * INVALID_ARGUMENT / TOO_LARGE for an empty list, a repeated (name, key) or
   * more than 16 requests.
   */
  async limitAll(
    ctx: RunMutationCtx,
    requests: LimitAllRequest<Limits>[],
    options?: { throws?: boolean },
  ): Promise<LimitAllResult> {
    assertWriteCtx(ctx, "RateLimiter.limitAll", "check or getValue");
    if (!Array.isArray(requests)) {
      const field = "requests";
      throw guardError(ErrorCode.INVALID_ARGUMENT, "requests must be an array", { field });
    }
    return mutateComponent(ctx, this.component.rateLimits.limitAll, rateLimitArgs.limitAll, {
      requests: requests.map((r, i) => {
        const o = requiredObject(r, `requests[${i}]`, REQUEST_FIELDS);
        const { name, key, count, reserve, config } = this.limitArgs(o.name, o);
        return { name, key, count, reserve, config };
      }),
      throws: optionsObject(options, "options", ["throws"])?.throws,
    });
  }

  /**
   * Deletes the state of (name, key) on every shard; the next call starts
   * fresh, and a call decided before the reset never counts after it. A
   * block stays (only `unblock` lifts one). `config` makes a name the
   * limiter was not given known. Throws INVALID_ARGUMENT / TOO_LARGE for a
   * bad name or key, UNKNOWN_LIMIT for a name neither configured nor given a
   * `config`, INVALID_CONFIG.
   */
  async reset<Name extends string = keyof Limits & string>(
    ctx: RunMutationCtx,
    name: Name,
    ...args: Name extends keyof Limits
      ? [args?: { key?: string; config?: RateLimitConfig }]
      : [args: { key?: string; config: RateLimitConfig }]
  ): Promise<void> {
    assertWriteCtx(ctx, "RateLimiter.reset", "check or getValue");
    const o = optionsObject(args[0], "options", ["key", "config"]);
    this.assertKnown(name, o?.config);
    await mutateComponent(ctx, this.component.rateLimits.reset, rateLimitArgs.reset, {
      name,
      key: o?.key,
    });
  }

  /**
   * Refunds up to `count` unused tokens (e.g. reserve an estimate, then credit
   * what the work did not use). Never raises the limit above its capacity.
   * Returns how much was credited. Throws UNKNOWN_LIMIT, INVALID_ARGUMENT,
   * INVALID_CONFIG for bad input.
   */
  credit<Name extends keyof Limits & string>(
    ctx: RunMutationCtx,
    name: Name,
    options: { key?: string; count: number; config?: RateLimitConfig },
  ): Promise<{ credited: number }>;
  credit(
    ctx: RunMutationCtx,
    name: string,
    options: { key?: string; count: number; config: RateLimitConfig },
  ): Promise<{ credited: number }>;
  async credit(
    ctx: RunMutationCtx,
    name: string,
    ...options: [{ key?: string; count: number; config?: RateLimitConfig }]
  ): Promise<{ credited: number }> {
    assertWriteCtx(ctx, "RateLimiter.credit", "check or getValue");
    const o = requiredObject(options[0], "options", ["key", "count", "config"]);
    return mutateComponent(ctx, this.component.rateLimits.credit, rateLimitArgs.credit, {
      name,
      key: o.key,
      count: o.count,
      config: this.configFor(name, o.config),
    });
  }

  /**
   * Denies `key` of `name` until `until` (ms since epoch): calls return
   * `{ ok: false, reason: "blocked", retryAfter }` (with `throws`, RateLimited
   * data carries the reason). Stored on the key's own state document, so
   * unblocked calls read nothing more. With `audit`, logs `guard.rateLimit.block`
   * by `actor` in the same transaction. Throws UNKNOWN_LIMIT, INVALID_ARGUMENT
   * (name, key, `until` not in the future or over ten years ahead), TOO_LARGE (reason over 512 bytes).
   */
  async block<Name extends string = keyof Limits & string>(
    ctx: RunMutationCtx,
    name: Name,
    options: BlockOptions & { config?: RateLimitConfig },
  ): Promise<void> {
    assertWriteCtx(ctx, "RateLimiter.block", "listBlocks or getValue");
    const o = requiredObject(options, "options", BLOCK_FIELDS);
    await blockKey(this.component, ctx, name, this.configFor(name, o.config), o);
  }

  /** Lifts a block; returns whether one was in force. With `audit`, logs `guard.rateLimit.unblock`. */
  async unblock<Name extends string = keyof Limits & string>(
    ctx: RunMutationCtx,
    name: Name,
    options?: UnblockOptions & { config?: RateLimitConfig },
  ): Promise<{ unblocked: boolean }> {
    assertWriteCtx(ctx, "RateLimiter.unblock", "listBlocks or getValue");
    const o = optionsObject(options, "options", UNBLOCK_FIELDS) ?? {};
    this.assertKnown(name, o.config);
    return unblockKey(this.component, ctx, name, o);
  }

  /** The keys of `name` blocked now, soonest to end first (at most 256 per page), for an admin page. */
  async listBlocks<Name extends string = keyof Limits & string>(
    ctx: RunQueryCtx,
    name: Name,
    paginationOpts: PaginationOptions,
    options?: { config?: RateLimitConfig },
  ): Promise<PaginationResult<Block>> {
    this.assertKnown(name, optionsObject(options, "options", ["config"])?.config);
    return listBlocks(this.component, ctx, name, paginationOpts);
  }

  /**
   * Usage of a limit configured with `stats: true`: allowed, denied and
   * consumed counts per UTC hour and day in [from, to) (at most 31 days), for
   * `key` or the whole limit with its `top` (default 10) most denied keys.
   * Throws INVALID_ARGUMENT for a bad name, key, range or `top`.
   */
  async stats<Name extends string = keyof Limits & string>(
    ctx: RunQueryCtx,
    args: StatsArgs & { name: Name; config?: RateLimitConfig },
  ): Promise<StatsResult> {
    const o = requiredObject(args, "args", STATS_FIELDS);
    this.assertKnown(o.name, o.config);
    return readStats(this.component, ctx, o);
  }

  /**
   * Remaining value now, state time/window, config and shard info. Writes nothing.
   * Throws UNKNOWN_LIMIT, INVALID_ARGUMENT (also `sampleShards` outside 1..shards), INVALID_CONFIG.
   */
  getValue<Name extends keyof Limits & string>(
    ctx: RunQueryCtx,
    name: Name,
    options?: { key?: string; sampleShards?: number; config?: RateLimitConfig },
  ): Promise<GetValueResult>;
  getValue(
    ctx: RunQueryCtx,
    name: string,
    options: { key?: string; sampleShards?: number; config: RateLimitConfig },
  ): Promise<GetValueResult>;
  async getValue(
    ctx: RunQueryCtx,
    name: string,
    ...options: [{ key?: string; sampleShards?: number; config?: RateLimitConfig }?]
  ): Promise<GetValueResult> {
    const o = optionsObject(options[0], "options", ["key", "sampleShards", "config"]);
    return queryComponent(ctx, this.component.rateLimits.getValue, rateLimitArgs.getValue, {
      name,
      key: o?.key,
      sampleShards: o?.sampleShards,
      config: this.configFor(name, o?.config),
    });
  }

  /**
   * Host functions for the React hook `useRateLimit`:
   * `export const { getRateLimit, getServerTime } = limiter.hookAPI("sendMessage", { key: async (ctx) => ... })`.
   * Name and config are fixed here; a client may send a key only if `key` is a function.
   * Throws here as `getValue` does for the name and config; `getRateLimit` throws
   * INVALID_ARGUMENT for a key sent by a client when `key` is not a function.
   */
  hookAPI<
    DataModel extends GenericDataModel = GenericDataModel,
    Name extends string = keyof Limits & string,
  >(
    name: Name,
    ...options: Name extends keyof Limits
      ? [options?: HookOptions<DataModel>]
      : [options: HookOptions<DataModel> & { config: RateLimitConfig }]
  ) {
    const o = options[0];
    // Checked here, so a bad hook config fails at import like a constructor config.
    if (o?.config !== undefined) this.configFor(name, o.config);
    const component = this.component;
    const configFor = (n: string, inline: RateLimitConfig | undefined) =>
      this.configFor(n, inline ?? (n === name ? o?.config : undefined));
    return {
      getRateLimit: queryGeneric({
        args: {
          name: v.optional(v.string()),
          key: v.optional(v.string()),
          sampleShards: v.optional(v.number()),
          config: v.optional(vRateLimitConfig),
        },
        returns: vGetValueResult,
        handler: async (ctx, args): Promise<GetValueResult> => {
          const keyOpt = o?.key;
          // Host side by nature: only the host knows whether its clients may pick the key.
          // A string `key` fixes it: a client's key would be ignored, so it is refused.
          if (args.key !== undefined && typeof keyOpt !== "function") {
            throw guardError(
              ErrorCode.INVALID_ARGUMENT,
              "this rate limit query does not accept a key from the client; pass a `key` function to hookAPI",
            );
          }
          const key =
            typeof keyOpt === "function"
              ? await keyOpt(ctx as GenericQueryCtx<DataModel>, args.key)
              : keyOpt;
          const limitName = args.name ?? name;
          return queryComponent(ctx, component.rateLimits.getValue, rateLimitArgs.getValue, {
            name: limitName,
            key,
            sampleShards: args.sampleShards ?? o?.sampleShards,
            config: configFor(limitName, args.config),
          });
        },
      }),
      getServerTime: mutationGeneric({
        args: {},
        returns: v.number(),
        handler: async () => Date.now(),
      }),
    };
  }

  /** The component arguments of `limit` / `check`. */
  private limitArgs(
    name: string,
    o: (RateLimitOptions & { config?: RateLimitConfig }) | undefined,
  ) {
    let config = this.configFor(name, o?.config);
    if (o?.maxReserved !== undefined) config = { ...config, maxReserved: o.maxReserved };
    return { name, key: o?.key, count: o?.count, reserve: o?.reserve, throws: o?.throws, config };
  }

  /**
   * For methods that take a name but no config (reset, unblock, listBlocks,
   * stats): the name must be a valid one this limiter configures, or come with
   * an inline `config`. Throws INVALID_ARGUMENT, UNKNOWN_LIMIT, INVALID_CONFIG.
   */
  private assertKnown(name: unknown, inline: RateLimitConfig | undefined): void {
    assertLimitName(name);
    this.configFor(name, inline);
  }

  /**
   * The config a call runs with: inline (checked once), else configured.
   * Throws UNKNOWN_LIMIT for a name with neither, INVALID_CONFIG.
   */
  private configFor(name: string, inline: RateLimitConfig | undefined): RateLimitConfig {
    if (inline !== undefined) {
      assertConfig(inline, name);
      return inline;
    }
    // Own properties only: "__proto__" or "toString" is no configured limit.
    const configured = Object.hasOwn(this.limits, name)
      ? this.limits[name as keyof Limits]
      : undefined;
    if (configured !== undefined) return configured;
    throw guardError(
      ErrorCode.UNKNOWN_LIMIT,
      `Rate limit "${name}" is not defined: add it to the RateLimiter or pass \`config\``,
      { name },
    );
  }
}

export default RateLimiter;
