/**
 * Blocks: an operator denies one key of a limit until a time ("block this
 * key for an hour"). The block is written on shard 0 and on every shard
 * document the key has, so a decision sees it in the document it reads
 * anyway (a shard with no document asks shard 0, ./shards.ts). Shard 0 also
 * carries `blockName`, the index `listBlocks` pages. No write but `unblock`
 * removes a block: `reset` and `credit` keep it, and the one state writer
 * keeps `idleAt` at or after its end, so the sweep cannot delete it early.
 */
import type { PaginationOptions, PaginationResult } from "convex/server";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { paginateChecked } from "../lib/paginate.js";
import { assertIntInRange, assertString } from "../lib/validate.js";
import { sweepDue } from "../maintenance/due.js";
import { ensureMaintenance } from "../maintenance/kick.js";
import { assertLimitName, normalizeConfig } from "./config.js";
import type { Block, RateLimitConfigArg } from "./model.js";
import { activeBlock, hostTarget, readShards } from "./shards.js";
import { max } from "../lib/math.js";

/** Longest block reason, in UTF-8 bytes (it is shown on an admin page). */
export const MAX_REASON_BYTES = 512;
/** Longest block: about ten years. */
export const MAX_BLOCK_MS = 10 * 366 * 24 * 3_600_000;
/** Most blocks one `listBlocks` page returns. */
export const MAX_BLOCKS_PAGE = 256;

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
  args: { name: string; key?: string; until: number; reason?: string; config: RateLimitConfigArg },
  now: number,
): Promise<null> {
  const t = hostTarget(args.name, args.key);
  const config = normalizeConfig(args.config, t.name);
  const until = assertUntil(args.until, now);
  if (args.reason !== undefined) assertString(args.reason, "reason", MAX_REASON_BYTES);
  const docs = new Map((await readShards(ctx.db, t)).map((d) => [d.shard, d]));
  const shards = new Set([...Array.from({ length: config.shards }, (_, i) => i), ...docs.keys()]);
  let inserted = false;
  for (const shard of shards) {
    const doc = docs.get(shard);
    const fields = {
      blockedUntil: until,
      blockReason: args.reason,
      ...(shard === 0 ? { blockName: t.name } : {}),
    };
    if (doc) {
      await ctx.db.patch("rateLimits", doc._id, { ...fields, idleAt: max(doc.idleAt, until) });
    } else {
      // No state: the key's calls start from the algorithm's initial state, as without a document.
      await ctx.db.insert("rateLimits", {
        name: t.name,
        key: t.key,
        shard,
        ...fields,
        idleAt: until,
      });
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
  const t = hostTarget(args.name, args.key);
  let unblocked = false;
  for (const doc of await readShards(ctx.db, t)) {
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
  assertLimitName(args.name);
  assertIntInRange(args.paginationOpts.numItems, "paginationOpts.numItems", 1, MAX_BLOCKS_PAGE);
  const blocked = ctx.db
    .query("rateLimits")
    .withIndex("by_block", (q) => q.eq("blockName", args.name).gt("blockedUntil", now));
  const page = await paginateChecked(blocked, args.paginationOpts);
  const blocks: Block[] = [];
  // The index range holds only blocks that last past `now`.
  for (const d of page.page) {
    const block = activeBlock(d, now);
    if (block !== null) blocks.push({ key: d.key, ...block });
  }
  return { ...page, page: blocks };
}
