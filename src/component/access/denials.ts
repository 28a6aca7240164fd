import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { ErrorCode } from "../lib/errors.js";
import { sha256Hex } from "../lib/hash.js";
import type { RateLimitConfigArg, RateLimitResult } from "../rateLimits/model.js";
import { consumeRateLimit, peekRateLimit, type LimitRequest } from "../rateLimits/store.js";
import { DENIAL_LIMIT_NAME, type ActorRef } from "./model.js";
import { assertActorRef, assertDenialLimitConfig } from "./rules.js";

/*
 * The denial budget of one actor: the rate limiter's shards under a reserved
 * name (no host limit, reset or credit can touch it), keyed by a digest of
 * the actor (an id may be longer than a limiter key).
 */

async function request(actor: ActorRef, limit: RateLimitConfigArg): Promise<LimitRequest> {
  assertActorRef(actor);
  assertDenialLimitConfig(limit, ErrorCode.INVALID_ARGUMENT);
  return {
    name: DENIAL_LIMIT_NAME,
    key: await sha256Hex(`${actor.type}\n${actor.id}`),
    config: limit,
  };
}

/** Whether the actor may be denied once more (reads its shard, writes nothing). */
export async function peekDenials(
  ctx: QueryCtx,
  args: { actor: ActorRef; limit: RateLimitConfigArg },
  now: number,
): Promise<RateLimitResult> {
  return peekRateLimit(ctx, await request(args.actor, args.limit), now);
}

/** Counts one denial of the actor. */
export async function countDenial(
  ctx: MutationCtx,
  args: { actor: ActorRef; limit: RateLimitConfigArg },
  now: number,
): Promise<RateLimitResult> {
  return consumeRateLimit(ctx, await request(args.actor, args.limit), now);
}
