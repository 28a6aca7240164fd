import type { Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { assertIntInRange } from "../lib/validate.js";
import type { MaintenanceResult } from "../maintenance/kick.js";
import { eventLeaf, sealedLeaf } from "./leaf.js";
import { GENESIS_HASH, inclusionPath, merkleRoot, sealHash } from "./merkle.js";
import { normalizeEventId } from "./reads.js";
import {
  EMPTY_SEAL_INTERVAL,
  MAX_PROOF_SEALS,
  SEAL_BATCH,
  VERIFY_PAGE_EVENTS,
  type AuditSeal,
  type Break,
  type VerifyResult,
  vHead,
  vProof,
} from "./model.js";

/**
 * The seal chain: the sealer gives unsealed events consecutive `seq` in
 * batches, a Merkle root per batch and a seal chained to the previous one;
 * `proof` shows one event's place in it; `verify` recomputes all of it.
 */

export async function lastSeal(ctx: QueryCtx): Promise<Doc<"auditSeals"> | null> {
  return ctx.db.query("auditSeals").withIndex("by_n").order("desc").first();
}

async function writeSeal(
  ctx: MutationCtx,
  prev: Doc<"auditSeals"> | null,
  leaves: string[],
  now: number,
): Promise<void> {
  const n = prev === null ? 0 : prev.n + 1;
  const fromSeq = prev === null ? 0 : prev.toSeq + 1;
  const header = {
    n,
    fromSeq,
    toSeq: fromSeq + leaves.length - 1,
    root: await merkleRoot(leaves),
    prevHash: prev === null ? GENESIS_HASH : prev.hash,
    sealedAt: now,
  };
  await ctx.db.insert("auditSeals", { ...header, hash: await sealHash(header) });
}

/**
 * Seals one batch of unsealed events, oldest first. Unsealed events are found
 * by the `seq`-unset index range, never by `recordedAt`, so an event that
 * commits late with an early `recordedAt` is still sealed. The range ends at
 * this call's clock (`_creationTime`, the index's implicit last field): `log`
 * calls that start while the sealer runs insert after that end, outside its
 * read set, so a busy log does not make every seal attempt conflict and retry.
 * Their events go into the next seal.
 */
export async function sealBatch(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const unsealed = await ctx.db
    .query("auditEvents")
    .withIndex("by_seq", (q) => q.eq("seq", undefined).lt("_creationTime", now + 1))
    .take(SEAL_BATCH + 1);
  const prev = await lastSeal(ctx);
  if (unsealed.length === 0) {
    if (prev !== null && now - prev.sealedAt >= EMPTY_SEAL_INTERVAL)
      await writeSeal(ctx, prev, [], now);
    return { processed: 0, more: false };
  }
  const batch = unsealed.slice(0, SEAL_BATCH);
  const fromSeq = prev === null ? 0 : prev.toSeq + 1;
  for (let i = 0; i < batch.length; i++)
    await ctx.db.patch("auditEvents", batch[i]!._id, { seq: fromSeq + i });
  await writeSeal(
    ctx,
    prev,
    batch.map((e) => e.leafHash),
    now,
  );
  return { processed: batch.length, more: unsealed.length > SEAL_BATCH };
}

export function headOf(s: Doc<"auditSeals"> | null): Infer<typeof vHead> {
  return s === null ? null : { n: s.n, toSeq: s.toSeq, hash: s.hash, sealedAt: s.sealedAt };
}

function sealOf(d: Doc<"auditSeals">): AuditSeal {
  const { n, fromSeq, toSeq, root, prevHash, hash, sealedAt } = d;
  return { n, fromSeq, toSeq, root, prevHash, hash, sealedAt };
}

/** Whether a seal's range is one the sealer could have written (checked before reading its events). */
function sealRangeOk(s: Doc<"auditSeals">, prevTo: number): boolean {
  const count = s.toSeq - s.fromSeq + 1;
  return s.fromSeq === prevTo + 1 && Number.isInteger(count) && count >= 0 && count <= SEAL_BATCH;
}

/** Events and retention stubs holding seq range [fromSeq, toSeq], as stored. */
async function storedLeaves(ctx: QueryCtx, fromSeq: number, toSeq: number) {
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

/**
 * Inclusion proof of a sealed event: its audit path in its seal's batch and
 * the seal chain from there to the head (or to seal `headN`). Null while the
 * event is not sealed yet.
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
  const sealDoc = await ctx.db
    .query("auditSeals")
    .withIndex("by_toSeq", (q) => q.gte("toSeq", seq))
    .first();
  if (sealDoc === null || sealDoc.fromSeq > seq) {
    throw guardError(ErrorCode.NOT_FOUND, `no seal covers seq ${seq}`);
  }
  // An edited range would make the proof read (and hash) an unbounded number of events.
  if (!sealRangeOk(sealDoc, sealDoc.fromSeq - 1)) {
    throw guardError(
      ErrorCode.CONFLICT,
      `seal ${sealDoc.n} covers an impossible range; run verify`,
    );
  }
  if (headN !== undefined && (!Number.isInteger(headN) || headN < sealDoc.n)) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `headN must be an integer of at least ${sealDoc.n}`,
    );
  }
  const { events, stubs } = await storedLeaves(ctx, sealDoc.fromSeq, sealDoc.toSeq);
  const bySeq = new Map<number, string>();
  for (const e of events) bySeq.set(e.seq!, e.leafHash);
  for (const s of stubs) bySeq.set(s.seq, await sealedLeaf(s));
  const leaves: string[] = [];
  for (let s = sealDoc.fromSeq; s <= sealDoc.toSeq; s++) leaves.push(bySeq.get(s) ?? "");
  const seals = await ctx.db
    .query("auditSeals")
    .withIndex("by_n", (q) =>
      headN === undefined ? q.gte("n", sealDoc.n) : q.gte("n", sealDoc.n).lte("n", headN),
    )
    .take(MAX_PROOF_SEALS + 1);
  if (seals.length > MAX_PROOF_SEALS) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `the chain from seal ${sealDoc.n} to the head has more than ${MAX_PROOF_SEALS} seals; pass headN (an anchored seal) closer to it`,
    );
  }
  return {
    seq,
    index: seq - sealDoc.fromSeq,
    size: leaves.length,
    path: await inclusionPath(leaves, seq - sealDoc.fromSeq),
    seals: seals.map(sealOf),
  };
}

/**
 * Recomputes leaves, Merkle roots and the seal chain from seal `cursor` on,
 * for at most `maxEvents` events, and reports the first break.
 */
export async function verifyPage(
  ctx: QueryCtx,
  now: number,
  args: { cursor?: string | null; maxEvents?: number },
): Promise<VerifyResult> {
  if (args.maxEvents !== undefined)
    assertIntInRange(args.maxEvents, "maxEvents", 1, VERIFY_PAGE_EVENTS);
  const pageEvents = args.maxEvents ?? VERIFY_PAGE_EVENTS;
  const start = args.cursor == null ? 0 : Number(args.cursor);
  if (!Number.isInteger(start) || start < 0) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `cursor ${JSON.stringify(args.cursor)} is not a verify cursor`,
    );
  }
  const result: VerifyResult = {
    ok: true,
    done: false,
    cursor: null,
    checkedSeals: 0,
    checkedEvents: 0,
    retained: [],
    head: null,
    break: null,
  };
  const fail = (b: Break): VerifyResult => ({
    ...result,
    ok: false,
    done: true,
    cursor: null,
    break: b,
  });

  let prev: Doc<"auditSeals"> | null = null;
  if (start > 0) {
    prev = await ctx.db
      .query("auditSeals")
      .withIndex("by_n", (q) => q.eq("n", start - 1))
      .first();
    if (prev === null)
      return fail({
        kind: "seal_deleted",
        seal: start - 1,
        message: `seal ${start - 1} is missing`,
      });
  } else {
    // Events sequenced below 0 cannot come from the sealer.
    const stray = await ctx.db
      .query("auditEvents")
      .withIndex("by_seq", (q) => q.gte("seq", -Infinity).lt("seq", 0))
      .first();
    if (stray !== null) {
      return fail({
        kind: "event_inserted",
        seq: stray.seq,
        message: `an event has negative seq ${stray.seq}`,
      });
    }
  }
  const seals = await ctx.db
    .query("auditSeals")
    .withIndex("by_n", (q) => q.gte("n", start))
    .take(pageEvents + 1);
  let budget = pageEvents;
  let i = 0;
  for (; i < seals.length; i++) {
    const s = seals[i]!;
    const count = s.toSeq - s.fromSeq + 1;
    if (result.checkedSeals > 0 && count > budget) break;
    const b = await checkSeal(ctx, prev, s, now, result);
    if (b !== null) return fail(b);
    result.checkedSeals++;
    result.checkedEvents += count;
    result.head = { n: s.n, hash: s.hash };
    budget -= count;
    prev = s;
  }
  if (i < seals.length) return { ...result, cursor: String(seals[i]!.n) };
  // Whole chain checked: nothing may carry a seq beyond the last seal.
  const lastTo = prev === null ? -1 : prev.toSeq;
  const extra = await ctx.db
    .query("auditEvents")
    .withIndex("by_seq", (q) => q.gt("seq", lastTo))
    .first();
  const extraStub = await ctx.db
    .query("auditRetained")
    .withIndex("by_seq", (q) => q.gt("seq", lastTo))
    .first();
  const stray = extra?.seq ?? extraStub?.seq;
  if (stray !== undefined) {
    return fail({
      kind: "event_inserted",
      seq: stray,
      message: `seq ${stray} is beyond the last seal (toSeq ${lastTo}): inserted, or the newest seal was deleted`,
    });
  }
  return { ...result, done: true };
}

/** Checks a seal's own fields against its predecessor. */
async function checkSealHeader(
  prev: Doc<"auditSeals"> | null,
  s: Doc<"auditSeals">,
): Promise<Break | null> {
  const expectedN = prev === null ? 0 : prev.n + 1;
  if (s.n > expectedN)
    return { kind: "seal_deleted", seal: expectedN, message: `seal ${expectedN} is missing` };
  if (s.n !== expectedN)
    return {
      kind: "seal_inserted",
      seal: s.n,
      message: `seal number ${s.n} repeats or is not an integer`,
    };
  if ((await sealHash(s)) !== s.hash)
    return { kind: "seal_edited", seal: s.n, message: `seal ${s.n} does not match its hash` };
  const prevHash = prev === null ? GENESIS_HASH : prev.hash;
  if (s.prevHash !== prevHash) {
    return {
      kind: "seal_edited",
      seal: s.n,
      message: `seal ${s.n} does not chain to seal ${s.n - 1}`,
    };
  }
  if (!sealRangeOk(s, prev === null ? -1 : prev.toSeq)) {
    return {
      kind: "seal_edited",
      seal: s.n,
      message: `seal ${s.n} covers an impossible range ${s.fromSeq}..${s.toSeq}`,
    };
  }
  return null;
}

type Holder = { event?: Doc<"auditEvents">; stub?: Doc<"auditRetained"> };

/** Checks one seal against its predecessor and its events. Returns the first break or null. */
async function checkSeal(
  ctx: QueryCtx,
  prev: Doc<"auditSeals"> | null,
  s: Doc<"auditSeals">,
  now: number,
  result: VerifyResult,
): Promise<Break | null> {
  const header = await checkSealHeader(prev, s);
  if (header !== null) return header;
  const { events, stubs } = await storedLeaves(ctx, s.fromSeq, s.toSeq);
  const bySeq = new Map<number, Holder[]>();
  const add = (seq: number, item: Holder) => bySeq.set(seq, [...(bySeq.get(seq) ?? []), item]);
  for (const e of events) add(e.seq!, { event: e });
  for (const st of stubs) add(st.seq, { stub: st });
  for (const seq of bySeq.keys()) {
    if (!Number.isInteger(seq)) {
      return {
        kind: "event_inserted",
        seal: s.n,
        seq,
        message: `an event has non-integer seq ${seq} inside seal ${s.n}`,
      };
    }
  }
  const leaves: string[] = [];
  for (let seq = s.fromSeq; seq <= s.toSeq; seq++) {
    const items = bySeq.get(seq) ?? [];
    if (items.length === 0) {
      return {
        kind: "event_deleted",
        seal: s.n,
        seq,
        message: `the event with seq ${seq} (seal ${s.n}) is missing`,
      };
    }
    if (items.length > 1) {
      return {
        kind: "event_inserted",
        seal: s.n,
        seq,
        message: `seq ${seq} (seal ${s.n}) is held by ${items.length} events`,
      };
    }
    const { event, stub } = items[0]!;
    if (event !== undefined) {
      const leaf = await eventLeaf(event);
      if (leaf !== event.leafHash) {
        return {
          kind: "event_edited",
          seal: s.n,
          seq,
          message: `the event with seq ${seq} (seal ${s.n}) was edited`,
        };
      }
      leaves.push(leaf);
    } else {
      if (!(stub!.retainUntil <= now)) {
        return {
          kind: "retained_early",
          seal: s.n,
          seq,
          message: `the event with seq ${seq} was removed before its retention horizon`,
        };
      }
      leaves.push(await sealedLeaf(stub!));
      const last = result.retained[result.retained.length - 1];
      if (last !== undefined && last.toSeq === seq - 1) last.toSeq = seq;
      else result.retained.push({ fromSeq: seq, toSeq: seq });
    }
  }
  if ((await merkleRoot(leaves)) !== s.root) {
    return {
      kind: "root_mismatch",
      seal: s.n,
      message: `the events of seal ${s.n} (seq ${s.fromSeq}..${s.toSeq}) were reordered or replaced, or its root was edited`,
    };
  }
  return null;
}
