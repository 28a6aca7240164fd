/**
 * The types of the RateLimiter client (argument and result shapes, ctx
 * types under the peer's names, the thrown error's data).
 */
import type {
  Expand,
  GenericActionCtx,
  GenericDataModel,
  GenericMutationCtx,
  GenericQueryCtx,
} from "convex/server";
import { ConvexError } from "convex/values";
import type {
  GetValueResult,
  RateLimitConfig,
  RateLimitResult,
} from "../component/rateLimits/model.js";

/** The ctx types `@convex-dev/rate-limiter` exports: what each method needs of a ctx. */
export type QueryCtx = Pick<GenericQueryCtx<GenericDataModel>, "runQuery" | "meta">;
export type MutationCtx = Pick<
  GenericMutationCtx<GenericDataModel>,
  "runQuery" | "runMutation" | "meta"
>;
export type ActionCtx = Pick<
  GenericActionCtx<GenericDataModel>,
  "runQuery" | "runMutation" | "runAction" | "meta"
>;

/** `getValue`'s result under the peer's name (ours adds fields; see {@link GetValueResult}). */
export type GetValueReturns = GetValueResult;

/** Same shape as `@convex-dev/rate-limiter`'s `RateLimitReturns`. */
export type RateLimitReturns = RateLimitResult;

/** `@convex-dev/rate-limiter` exports this too: kept so a switch only changes the import. */
export type RateLimitArgs = {
  name: string;
  key?: string;
  count?: number;
  reserve?: boolean;
  throws?: boolean;
  config: RateLimitConfig;
};

/** `ConvexError.data` of a denied call with `throws: true` (the peer's `RateLimitError` plus `code`, `message`). */
export type RateLimitError = {
  kind: "RateLimited";
  code: "RATE_LIMITED";
  message: string;
  name: string;
  retryAfter: number;
  /** "blocked": the key is blocked (`block`) until `retryAfter` from now. */
  reason?: "blocked";
};

/** True for the error a denied `limit(..., { throws: true })` throws (ours or the peer's). */
export function isRateLimitError(error: unknown): error is ConvexError<RateLimitError> {
  return (
    error instanceof ConvexError &&
    typeof error.data === "object" &&
    error.data !== null &&
    (error.data as { kind?: unknown }).kind === "RateLimited"
  );
}

/** Options of `limit` and `check`. */
export type RateLimitOptions = {
  /** Whose limit: a user id, an IP... Omitted: one value shared by every caller. */
  key?: string;
  /** Tokens to take; a non-negative integer, default 1. */
  count?: number;
  /** Throw a `ConvexError` (see {@link RateLimitError}) instead of returning `{ ok: false }`. */
  throws?: boolean;
  /** Take the tokens even if it drives the limit negative; `retryAfter` says when to run the work. */
  reserve?: boolean;
  /** Per-call override of the config's `maxReserved`. */
  maxReserved?: number;
};

/** Known names take optional options; other names must pass `config`. */
export type Opts<Limits, Name extends string, Args> = Name extends keyof Limits
  ? [options?: Expand<Args & { config?: RateLimitConfig }>]
  : [options: Expand<Args & { config: RateLimitConfig }>];

/** One request of {@link RateLimiter.limitAll}. */
export type LimitAllRequest<Limits> =
  | {
      [N in keyof Limits & string]: {
        name: N;
        key?: string;
        count?: number;
        reserve?: boolean;
        config?: RateLimitConfig;
      };
    }[keyof Limits & string]
  | { name: string; key?: string; count?: number; reserve?: boolean; config: RateLimitConfig };

export type HookOptions<DataModel extends GenericDataModel> = {
  /**
   * The key to read. A function may derive it from the caller (`ctx.auth`);
   * it receives the key the client sent, if any. A client-sent key is refused
   * unless this is a function.
   */
  key?:
    | string
    | ((ctx: GenericQueryCtx<DataModel>, keyFromClient?: string) => string | Promise<string>);
  sampleShards?: number;
  config?: RateLimitConfig;
};
