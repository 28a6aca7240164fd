import type { MutationCtx, QueryCtx } from "./_generated/server.js";
import type { MaintenanceResult } from "./maintenance.js";
import type { RateLimitConfig, RateLimitResult } from "../shared/rateLimitMath.js";

/*
 * CONTRACT for other component modules (codes.ts uses these for its issue and
 * failure limits). Names and signatures are fixed; bodies are owned by the
 * rate-limit work.
 */
export type LimitRequest = {
  name: string;
  key: string;
  config: RateLimitConfig;
  count?: number;
  reserve?: boolean;
};

/** Consumes `count` (default 1) if allowed; a denied call writes nothing. */
export async function consumeRateLimit(
  _ctx: MutationCtx,
  _req: LimitRequest,
  _now: number,
): Promise<RateLimitResult> {
  throw new Error("not implemented yet");
}

/** Would `count` be allowed now? Reads only. */
export async function peekRateLimit(_ctx: QueryCtx, _req: LimitRequest, _now: number): Promise<RateLimitResult> {
  throw new Error("not implemented yet");
}

/** Deletes the state of (name, key) on every shard. */
export async function resetRateLimit(_ctx: MutationCtx, _name: string, _key: string): Promise<void> {
  throw new Error("not implemented yet");
}

/** Deletes state of idle keys in one bounded batch. */
export async function maintainRateLimits(_ctx: MutationCtx, _now: number): Promise<MaintenanceResult> {
  return { processed: 0, more: false };
}
