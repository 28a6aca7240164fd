/**
 * What `RateLimiter`'s operator methods do (block, unblock, listBlocks, stats):
 * the component call plus the audit event, kept here so the client class
 * stays a list of thin methods.
 */
import type { PaginationOptions, PaginationResult } from "convex/server";
import type { ComponentApi } from "../component/_generated/component.js";
import type { Block, RateLimitConfig } from "../component/rateLimits/model.js";
import type { StatsArgs, StatsResult } from "../component/rateLimits/stats.js";
import { GUARD_ACTOR, type AuditSink } from "./auditSink.js";
import type { RunMutationCtx, RunQueryCtx } from "./ctx.js";
import { mutateComponent, queryComponent } from "./checkArgs.js";
import { rateLimitArgs } from "../component/rateLimits/model.js";

export type { Block } from "../component/rateLimits/model.js";
export type { StatsArgs, StatsResult } from "../component/rateLimits/stats.js";

export type RateLimitActor = { type: string; id: string; name?: string };

/** Audit action names, in the `guard.` namespace an `AuditLog` always accepts. */
export const RATE_LIMIT_AUDIT_ACTIONS = {
  block: "guard.rateLimit.block",
  unblock: "guard.rateLimit.unblock",
} as const;

/** Who did it and where to record it: logged in the caller's transaction (it rolls back with it). */
export type AuditOptions = { audit?: AuditSink; actor?: RateLimitActor };

export type BlockOptions = AuditOptions & {
  /** The key to block; omitted: the limit's shared value (every caller). */
  key?: string;
  /** ms since epoch, after now and at most ten years ahead. */
  until: number;
  /** Shown by `listBlocks` and in the audit event; at most 512 bytes. */
  reason?: string;
};
export type UnblockOptions = AuditOptions & { key?: string };

function target(name: string, key: string | undefined) {
  return [{ type: "rateLimitKey", id: key ?? "", name }];
}

export async function blockKey(
  component: ComponentApi,
  ctx: RunMutationCtx,
  name: string,
  config: RateLimitConfig,
  o: BlockOptions,
): Promise<void> {
  const { key, until, reason } = o;
  const args = { name, key, until, reason, config };
  await mutateComponent(ctx, component.rateLimits.block, rateLimitArgs.block, args);
  await o.audit?.log(ctx, {
    action: RATE_LIMIT_AUDIT_ACTIONS.block,
    actor: o.actor ?? GUARD_ACTOR,
    targets: target(name, key),
    outcome: "success",
    ...(reason !== undefined ? { reason } : {}),
    metadata: { limit: name, until },
  });
}

export async function unblockKey(
  component: ComponentApi,
  ctx: RunMutationCtx,
  name: string,
  o: UnblockOptions,
): Promise<{ unblocked: boolean }> {
  const r = await mutateComponent(ctx, component.rateLimits.unblock, rateLimitArgs.unblock, {
    name,
    key: o.key,
  });
  if (r.unblocked) {
    await o.audit?.log(ctx, {
      action: RATE_LIMIT_AUDIT_ACTIONS.unblock,
      actor: o.actor ?? GUARD_ACTOR,
      targets: target(name, o.key),
      outcome: "success",
      metadata: { limit: name },
    });
  }
  return r;
}

export async function listBlocks(
  component: ComponentApi,
  ctx: RunQueryCtx,
  name: string,
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<Block>> {
  return queryComponent(ctx, component.rateLimits.listBlocks, rateLimitArgs.listBlocks, {
    name,
    paginationOpts,
  });
}

export async function readStats(
  component: ComponentApi,
  ctx: RunQueryCtx,
  args: StatsArgs,
): Promise<StatsResult> {
  const { name, key, from, to, top, timeZone } = args;
  const call = { name, key, from, to, top, timeZone };
  return queryComponent(ctx, component.rateLimits.stats, rateLimitArgs.stats, call);
}
