import type { Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { loopLogger, type MaintenanceResult } from "../maintenance/kick.js";
import { committedAt, eventProblem } from "./integrity.js";
import { isHash } from "./leaf.js";
import { GENESIS_HASH, commitsDigest, merkleRoot, sealHash } from "./merkle.js";
import { EMPTY_SEAL_INTERVAL, SEAL_BATCH, type AuditSeal, vHead } from "./model.js";
import { skipTargets } from "./skips.js";

/**
 * The seal chain: the sealer gives unsealed events consecutive `seq` in
 * batches, a Merkle root per batch and a seal chained to the previous one
 * (and skip-linked to older ones, skips.ts); `proof` (proof.ts) shows one
 * event's place in it; `verify` recomputes all of it.
 */

export async function lastSeal(ctx: QueryCtx): Promise<Doc<"auditSeals"> | null> {
  return ctx.db.query("auditSeals").withIndex("by_n").order("desc").first();
}

async function writeSeal(
  ctx: MutationCtx,
  prev: Doc<"auditSeals"> | null,
  events: Doc<"auditEvents">[],
  now: number,
  upTo: bigint,
): Promise<void> {
  const leaves = events.map((e) => e.leafHash);
  const n = prev === null ? 0 : prev.n + 1;
  const skips = await skipHashes(ctx, n);
  const fromSeq = prev === null ? 0 : prev.toSeq + 1;
  const header = {
    n,
    fromSeq,
    toSeq: fromSeq + leaves.length - 1,
    root: await merkleRoot(leaves),
    prevHash: prev === null ? GENESIS_HASH : prev.hash,
    sealedAt: now,
    upTo,
    commits: await commitsDigest(events.map(committedAt)),
    skips,
  };
  await ctx.db.insert("auditSeals", { ...header, hash: await sealHash(header) });
}

/**
 * Hashes of the seals seal n skips back to (skips.ts): tz(n) reads, one on
 * average. A missing or malformed one is written as GENESIS_HASH, which no
 * seal has, so `verify` reports the link and the chain keeps growing.
 */
async function skipHashes(ctx: QueryCtx, n: number): Promise<string[]> {
  const out: string[] = [];
  for (const target of skipTargets(n)) {
    const s = await sealNumbered(ctx, target);
    out.push(s !== null && isHash(s.hash) ? s.hash : GENESIS_HASH);
  }
  return out;
}

/** Seal number n (the first, if an admin duplicated it). */
export async function sealNumbered(ctx: QueryCtx, n: number): Promise<Doc<"auditSeals"> | null> {
  return ctx.db
    .query("auditSeals")
    .withIndex("by_n", (q) => q.eq("n", n))
    .first();
}

/** Records an unsealed event the sealer will not seal, once, and says so in the logs. */
async function setAside(ctx: MutationCtx, e: Doc<"auditEvents">, reason: string, now: number) {
  const known = await ctx.db
    .query("auditSetAside")
    .withIndex("by_event", (q) => q.eq("event", e._id))
    .first();
  if (known !== null) return;
  await ctx.db.insert("auditSetAside", { event: e._id, reason, at: now });
  (await loopLogger(ctx)).error(`audit event ${e._id} set aside, not sealed: ${reason}`);
}

/** The newest seal, checked enough to extend: a malformed head stops sealing with a coded error. */
async function extendableHead(ctx: QueryCtx): Promise<Doc<"auditSeals"> | null> {
  const prev = await lastSeal(ctx);
  if (prev === null) return null;
  const ints = [prev.n, prev.toSeq].every((x) => Number.isSafeInteger(x) && x >= -1);
  if (!ints || !isHash(prev.hash)) {
    throw guardError(
      ErrorCode.CORRUPT_STATE,
      `the newest audit seal (${String(prev.n)}) is malformed, so no seal can extend it; run verify`,
    );
  }
  return prev;
}

/**
 * Seals one batch of events in commit order. It reads unsealed events by
 * commit timestamp, above the newest seal's watermark `upTo` and at most its
 * own snapshot timestamp: every event that committed before this transaction
 * is visible, in commit order, and racing appends commit later, outside the
 * range read, so they never make the sealer retry. The new seal's `upTo`
 * states that every event committed up to it is sealed, so an unsealed event
 * at or below it (inserted by hand, or set aside) is tampering `verify`
 * reports. Events that fail `eventProblem` are set aside, not sealed.
 */
export async function sealBatch(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const snapshot = ctx.meta.getSnapshotTs();
  const prev = await extendableHead(ctx);
  const after = prev?.upTo;
  const unsealed = await ctx.db
    .query("auditEvents")
    .withIndex("by_seq", (q) =>
      after === undefined
        ? q.eq("seq", undefined).lte("commitTs", snapshot)
        : q.eq("seq", undefined).gt("commitTs", after).lte("commitTs", snapshot),
    )
    .take(SEAL_BATCH + 1);
  const more = unsealed.length > SEAL_BATCH;
  const batch = unsealed.slice(0, SEAL_BATCH);
  if (batch.length === 0) {
    if (prev !== null && now - prev.sealedAt >= EMPTY_SEAL_INTERVAL)
      await writeSeal(ctx, prev, [], now, snapshot);
    return { processed: 0, more: false };
  }
  const good: Doc<"auditEvents">[] = [];
  for (const e of batch) {
    const problem = await eventProblem(e);
    if (problem === null) good.push(e);
    else await setAside(ctx, e, problem.message, now);
  }
  const fromSeq = prev === null ? 0 : prev.toSeq + 1;
  for (const [i, e] of good.entries())
    await ctx.db.patch("auditEvents", e._id, { seq: fromSeq + i });
  const last = unsealed[SEAL_BATCH - 1];
  const next = unsealed[SEAL_BATCH];
  const upTo = last === undefined || next === undefined ? snapshot : watermarkBefore(last, next);
  await writeSeal(ctx, prev, good, now, upTo);
  return { processed: batch.length, more };
}

/**
 * Watermark of a full batch: its last commit timestamp, or one less when the
 * next unsealed event committed in the same transaction (it goes into the next
 * seal).
 */
function watermarkBefore(last: Doc<"auditEvents">, next: Doc<"auditEvents">): bigint {
  const ts = committedAt(last);
  return committedAt(next) === ts ? ts - 1n : ts;
}

/** The small, stable text form of a head: `cg1:<n>:<hash>`. */
export function anchorOf(s: { n: number; hash: string }): string {
  return `cg1:${s.n}:${s.hash}`;
}

/** Parses an anchor; INVALID_ARGUMENT when it is not one `head` returns. */
export function parseAnchor(anchor: string): { n: number; hash: string } {
  const m = /^cg1:(\d{1,15}):([0-9a-f]{64})$/.exec(anchor);
  const n = m?.[1];
  const hash = m?.[2];
  if (n === undefined || hash === undefined)
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `${JSON.stringify(anchor.slice(0, 100))} is not an audit anchor`,
    );
  return { n: Number(n), hash };
}

export function headOf(s: Doc<"auditSeals"> | null): Infer<typeof vHead> {
  if (s === null) return null;
  const { n, toSeq, root, hash, sealedAt } = s;
  return { n, toSeq, root, hash, sealedAt, anchor: anchorOf(s) };
}

export function sealOf(d: Doc<"auditSeals">): AuditSeal {
  const { n, fromSeq, toSeq, root, prevHash, hash, sealedAt, upTo, commits, skips } = d;
  return {
    n,
    fromSeq,
    toSeq,
    root,
    prevHash,
    hash,
    sealedAt,
    upTo: upTo.toString(),
    commits,
    skips,
  };
}

/** Whether a seal's range is one the sealer could have written (checked before reading its events). */
export function sealRangeOk(s: Doc<"auditSeals">, prevTo: number): boolean {
  const count = s.toSeq - s.fromSeq + 1;
  return s.fromSeq === prevTo + 1 && Number.isInteger(count) && count >= 0 && count <= SEAL_BATCH;
}

/** Events and retention stubs holding seq range [fromSeq, toSeq], as stored. */
export async function storedLeaves(ctx: QueryCtx, fromSeq: number, toSeq: number) {
  const count = toSeq - fromSeq + 1;
  const events = await ctx.db
    .query("auditEvents")
    .withIndex("by_seq", (q) => q.gte("seq", fromSeq).lte("seq", toSeq))
    .take(count + 1);
  const stubs = await ctx.db
    .query("auditRetained")
    .withIndex("by_seq", (q) => q.gte("seq", fromSeq).lte("seq", toSeq))
    .take(count + 1);
  return { events, stubs };
}
