import type { Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel.js";
import type { QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { lastSeal, sealNumbered, sealOf, sealRangeOk, storedLeaves } from "./chain.js";
import { isHash, sealedLeaf } from "./leaf.js";
import { inclusionPath } from "./merkle.js";
import { vProof } from "./model.js";
import { normalizeEventId } from "./reads.js";
import { skipPath } from "./skips.js";

/**
 * `proof`: one event's audit path in its seal's batch, and the skip path of
 * seals from that seal up to the head (skips.ts): O(log n) seals however old
 * the event is, at most MAX_PROOF_READS documents read.
 */

type Seal = Doc<"auditSeals">;

/** The seal that holds `seq`, checked enough to read its batch. */
async function sealHolding(ctx: QueryCtx, seq: number): Promise<Seal> {
  const sealDoc = await ctx.db
    .query("auditSeals")
    .withIndex("by_toSeq", (q) => q.gte("toSeq", seq))
    .first();
  if (sealDoc === null || sealDoc.fromSeq > seq) {
    throw guardError(ErrorCode.CORRUPT_STATE, `no seal covers seq ${seq}; run verify`);
  }
  // An edited range would make the proof read (and hash) an unbounded number of events.
  if (!sealRangeOk(sealDoc, sealDoc.fromSeq - 1)) {
    throw guardError(
      ErrorCode.CORRUPT_STATE,
      `seal ${sealDoc.n} covers an impossible range; run verify`,
    );
  }
  return sealDoc;
}

/** The leaf hashes of a seal's batch, in seq order, from its events and retention stubs. */
async function batchLeaves(ctx: QueryCtx, s: Seal): Promise<string[]> {
  const { events, stubs } = await storedLeaves(ctx, s.fromSeq, s.toSeq);
  const bySeq = new Map<number, string>();
  for (const e of events) if (e.seq !== undefined) bySeq.set(e.seq, e.leafHash);
  for (const st of stubs) bySeq.set(st.seq, await sealedLeaf(st));
  const leaves: string[] = [];
  for (let seq = s.fromSeq; seq <= s.toSeq; seq++) {
    const leaf = bySeq.get(seq);
    if (!isHash(leaf))
      throw guardError(ErrorCode.CORRUPT_STATE, `seal ${s.n} is missing a leaf; run verify`);
    leaves.push(leaf);
  }
  return leaves;
}

/** The seal the proof ends at: the head, or seal `headN` when that is older. */
async function proofTop(ctx: QueryCtx, from: Seal, headN: number | undefined): Promise<Seal> {
  if (headN !== undefined && (!Number.isInteger(headN) || headN < from.n)) {
    throw guardError(ErrorCode.INVALID_ARGUMENT, `headN must be an integer of at least ${from.n}`);
  }
  // The newest seal is at least `from`, which exists.
  const head = (await lastSeal(ctx)) ?? from;
  if (headN === undefined || headN >= head.n) return head;
  const top = await sealNumbered(ctx, headN);
  if (top === null)
    throw guardError(ErrorCode.CORRUPT_STATE, `seal ${headN} is missing; run verify`);
  return top;
}

/**
 * Seals from `from` up to `top` along the skip path (skips.ts), ascending:
 * at most MAX_PROOF_SEALS, once both numbers are ones the sealer writes.
 */
async function skipPathSeals(ctx: QueryCtx, from: Seal, top: Seal): Promise<Seal[]> {
  if (![from.n, top.n].every((n) => Number.isSafeInteger(n) && n >= 0) || from.n > top.n)
    throw guardError(
      ErrorCode.CORRUPT_STATE,
      `seal ${from.n} has an impossible number; run verify`,
    );
  const seals: Seal[] = [];
  for (const n of skipPath(from.n, top.n)) {
    const s = n === from.n ? from : n === top.n ? top : await sealNumbered(ctx, n);
    if (s === null) throw guardError(ErrorCode.CORRUPT_STATE, `seal ${n} is missing; run verify`);
    seals.push(s);
  }
  return seals;
}

/**
 * Inclusion proof of a sealed event: its audit path in its seal's batch and
 * the skip path of seals from there to the head (or to seal `headN`). Null
 * while the event is not sealed yet.
 */
export async function buildProof(
  ctx: QueryCtx,
  id: string,
  headN: number | undefined,
): Promise<Infer<typeof vProof> | null> {
  const doc = await ctx.db.get("auditEvents", normalizeEventId(ctx, id));
  if (doc === null) throw guardError(ErrorCode.NOT_FOUND, `audit event ${id} does not exist`);
  if (doc.seq === undefined) return null;
  const seq = doc.seq;
  if (!Number.isSafeInteger(seq) || seq < 0)
    throw guardError(
      ErrorCode.CORRUPT_STATE,
      `audit event ${id} has an impossible seq; run verify`,
    );
  const sealDoc = await sealHolding(ctx, seq);
  const top = await proofTop(ctx, sealDoc, headN);
  const leaves = await batchLeaves(ctx, sealDoc);
  const seals = await skipPathSeals(ctx, sealDoc, top);
  return {
    seq,
    index: seq - sealDoc.fromSeq,
    size: leaves.length,
    path: await inclusionPath(leaves, seq - sealDoc.fromSeq),
    seals: seals.map(sealOf),
  };
}
