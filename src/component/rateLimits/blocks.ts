/**
 * Blocks: an operator denies one key of a limit until a time ("block this
 * key for an hour"). The block is written on every shard document of the key,
 * so `limit` sees it in the document it reads anyway: the unblocked path reads
 * nothing more. Shard 0 also carries `blockName`, the index `listBlocks` pages.
 */
import type { PaginationOptions, PaginationResult } from "convex/server";
import type { Doc } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { paginateChecked } from "../lib/paginate.js";
import { assertIntInRange, assertString } from "../lib/validate.js";
import { sweepDue } from "../maintenance/due.js";
import { ensureMaintenance } from "../maintenance/kick.js";
import { MAX_SHARDS, normalizeConfig, shardConfig } from "./config.js";
import type { Block, RateLimitConfig } from "./model.js";
import { publicTarget, readShard, seedOf } from "./shards.js";

/** Longest block reason, in UTF-8 bytes (it is shown on an admin page). */
export const MAX_REASON_BYTES = 512;
/** Longest block: about ten years. */
export const MAX_BLOCK_MS = 10 * 366 * 24 * 3_600_000;
/** Most blocks one `listBlocks` page returns. */
export const MAX_BLOCKS_PAGE = 256;

/** The block a shard document holds while it lasts (at `now`), as `getValue` and `listBlocks` show it. */
export function activeBlock(
  doc: Doc<"rateLimits"> | null,
  now: number,
): { until: number; reason?: string } | null {
  const until = doc?.blockedUntil;
  if (until === undefined || until <= now) return null;
  return { until, ...(doc!.blockReason !== undefined ? { reason: doc!.blockReason } : {}) };
}

/** The denial of a key blocked at `now`, or null. */
export function blockedDecision(doc: Doc<"rateLimits"> | null, now: number) {
  const block = activeBlock(doc, now);
  if (block === null) return null;
  return { ok: false as const, retryAfter: block.until - now, reason: "blocked" as const };
}

/** A shard's `idleAt` never falls before its block ends: the sweep must not delete a block. */
export function keepWhileBlocked(doc: Doc<"rateLimits"> | null, idleAt: number): number {
  return Math.max(idleAt, doc?.blockedUntil ?? 0);
}

function assertUntil(until: number, now: number): number {
  if (!Number.isFinite(until) || until <= now) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `until must be a time (ms since epoch) after now, got ${String(until)}`,
      { field: "until" },
    );
  }
  if (until - now > MAX_BLOCK_MS) {
    throw guardError(ErrorCode.INVALID_ARGUMENT, "until must be at most ten years from now", {
      field: "until",
    });
  }
  return until;
}

/** Blocks (name, key) until `until`; a later block replaces an earlier one. */
export async function blockKey(
  ctx: MutationCtx,
  args: { name: string; key?: string; until: number; reason?: string; config: RateLimitConfig },
  now: number,
): Promise<null> {
  const { name, key } = publicTarget(args);
  const config = normalizeConfig(args.config, name);
  const until = assertUntil(args.until, now);
  if (args.reason !== undefined) assertString(args.reason, "reason", MAX_REASON_BYTES);
  const s = shardConfig(config);
  const seed = seedOf(name, key);
  let inserted = false;
  for (let shard = 0; shard < config.shards; shard++) {
    const doc = await readShard(ctx.db, name, key, shard);
    const fields = {
      blockedUntil: until,
      blockReason: args.reason,
      ...(shard === 0 ? { blockName: name } : {}),
    };
    if (doc) {
      await ctx.db.patch("rateLimits", doc._id, { ...fields, idleAt: Math.max(doc.idleAt, until) });
    } else {
      const state = s.algorithm.initial(s, seed, now);
      await ctx.db.insert("rateLimits", { name, key, shard, ...state, ...fields, idleAt: until });
      inserted = true;
    }
  }
  // The sweep deletes the documents once the block has ended (and the state is idle).
  if (inserted) await ensureMaintenance(ctx, now, sweepDue(until));
  return null;
}

/** Lifts a block on (name, key); `unblocked` is false if there was none in force. */
export async function unblockKey(
  ctx: MutationCtx,
  args: { name: string; key?: string },
  now: number,
): Promise<{ unblocked: boolean }> {
  const { name, key } = publicTarget(args);
  const docs = await ctx.db
    .query("rateLimits")
    .withIndex("by_name_key_shard", (q) => q.eq("name", name).eq("key", key))
    .take(MAX_SHARDS);
  let unblocked = false;
  for (const doc of docs) {
    if (doc.blockedUntil === undefined) continue;
    if (doc.blockedUntil > now) unblocked = true;
    await ctx.db.patch("rateLimits", doc._id, {
      blockedUntil: undefined,
      blockReason: undefined,
      blockName: undefined,
    });
  }
  return { unblocked };
}

/** The keys of a limit blocked now, soonest to end first. */
export async function listBlockedKeys(
  ctx: QueryCtx,
  args: { name: string; paginationOpts: PaginationOptions },
  now: number,
): Promise<PaginationResult<Block>> {
  const { name } = publicTarget({ name: args.name });
  assertIntInRange(args.paginationOpts.numItems, "paginationOpts.numItems", 1, MAX_BLOCKS_PAGE);
  const blocked = ctx.db
    .query("rateLimits")
    .withIndex("by_block", (q) => q.eq("blockName", name).gt("blockedUntil", now));
  const page = await paginateChecked(blocked, args.paginationOpts);
  return {
    ...page,
    // The index range holds only blocks that last past `now`.
    page: page.page.map((d) => ({ key: d.key, ...activeBlock(d, now)! })),
  };
}
