import type { Doc } from "../_generated/dataModel.js";
import type { QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { assertIntInRange } from "../lib/validate.js";
import { parseAnchor, sealNumbered, sealRangeOk, storedLeaves } from "./chain.js";
import { commitMs, committedAt, eventProblem, servingRowsProblem } from "./integrity.js";
import { isHash, sealedLeaf } from "./leaf.js";
import { GENESIS_HASH, commitsDigest, merkleRoot, sealHash } from "./merkle.js";
import { skipTargets } from "./skips.js";
import {
  BACKLOG_COUNT_CAP,
  CLOCK_BOUND_MS,
  DEFAULT_STALLED_AFTER_MS,
  VERIFY_PAGE_EVENTS,
  type Break,
  type VerifyResult,
} from "./model.js";
import { abs, min, round } from "../lib/math.js";

/**
 * `verify`: recomputes every leaf, Merkle root and seal hash in bounded pages,
 * checks the rows that serve each event, and on the last page reports how far
 * sealing is behind. Every finding is a `break` with a reason; only bad
 * arguments (a cursor or anchor this function did not issue) throw.
 */

export type VerifyArgs = {
  cursor?: string | null;
  maxEvents?: number;
  anchor?: string;
  stalledAfterMs?: number;
};

type Seal = Doc<"auditSeals">;

/** A cursor names the last seal checked and its hash, so a forged one is refused. */
function cursorOf(last: Seal): string {
  return `${last.n}:${last.hash}`;
}

async function resumeFrom(ctx: QueryCtx, cursor: string): Promise<Seal> {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(cursor);
  const prev =
    m === null
      ? undefined
      : (
          await ctx.db
            .query("auditSeals")
            .withIndex("by_n", (q) => q.eq("n", Number(m[1])))
            .take(2)
        ).find((s) => s.hash === m[2]);
  if (prev === undefined) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `${JSON.stringify(cursor.slice(0, 100))} is not a cursor of this chain; start again from null`,
    );
  }
  return prev;
}

export async function verifyPage(
  ctx: QueryCtx,
  now: number,
  args: VerifyArgs,
): Promise<VerifyResult> {
  if (args.maxEvents !== undefined)
    assertIntInRange(args.maxEvents, "maxEvents", 1, VERIFY_PAGE_EVENTS);
  if (args.stalledAfterMs !== undefined)
    assertIntInRange(args.stalledAfterMs, "stalledAfterMs", 1, 365 * 86_400_000);
  const anchor = args.anchor === undefined ? null : parseAnchor(args.anchor);
  let prev = args.cursor == null ? null : await resumeFrom(ctx, args.cursor);
  const result: VerifyResult = {
    ok: true,
    done: false,
    cursor: null,
    checkedSeals: 0,
    checkedEvents: 0,
    retained: [],
    head: null,
    break: null,
    liveness: null,
  };
  const fail = (b: Break): VerifyResult => ({ ...result, ok: false, done: true, break: b });

  if (anchor !== null) {
    const anchored = await ctx.db
      .query("auditSeals")
      .withIndex("by_n", (q) => q.eq("n", anchor.n))
      .first();
    if (anchored === null || anchored.hash !== anchor.hash) {
      return fail({
        kind: "anchor_mismatch",
        seal: anchor.n,
        message: `the chain does not extend the anchored head: seal ${anchor.n} is ${anchored === null ? "missing" : "different"}`,
      });
    }
  }
  if (prev === null) {
    // Below seq 0 (where -NaN and -Infinity sort too) only unsealed events may be.
    const stray = await ctx.db
      .query("auditEvents")
      .withIndex("by_seq", (q) => q.lt("seq", 0))
      .order("desc")
      .first();
    if (stray !== null && stray.seq !== undefined)
      return fail({ kind: "malformed", message: `event ${stray._id} has seq ${stray.seq}` });
  }
  const pageEvents = args.maxEvents ?? VERIFY_PAGE_EVENTS;
  // From the resumed seal's number on, so a duplicate of it is seen too.
  const resumed = prev;
  const read = await ctx.db
    .query("auditSeals")
    .withIndex("by_n", (q) => (resumed === null ? q : q.gte("n", resumed.n)))
    .take(pageEvents + 2);
  // A full read of (empty) seals may not reach the head: the tail waits for the next page.
  const more = read.length === pageEvents + 2;
  const seals = read.filter((s) => s._id !== resumed?._id);
  let budget = pageEvents;
  // Hashes of the seals checked on this page, for the skip links of later ones.
  const known = new Map<number, string>(prev === null ? [] : [[prev.n, prev.hash]]);
  for (const s of seals) {
    const count = s.toSeq - s.fromSeq + 1;
    if (prev !== null && result.checkedSeals > 0 && count > budget)
      return { ...result, cursor: cursorOf(prev) };
    const b =
      (await checkSealHeader(prev, s, now)) ??
      (await skipsProblem(ctx, s, known)) ??
      (await checkSeal(ctx, prev, s, now, result));
    if (b !== null) return fail(b);
    result.checkedSeals++;
    result.checkedEvents += count;
    result.head = { n: s.n, hash: s.hash };
    known.set(s.n, s.hash);
    budget -= count;
    prev = s;
  }
  // A full read checked at least one seal, so `prev` is set.
  if (more && prev !== null) return { ...result, cursor: cursorOf(prev) };
  const b = await checkTail(
    ctx,
    prev,
    now,
    args.stalledAfterMs ?? DEFAULT_STALLED_AFTER_MS,
    result,
  );
  return b === null ? { ...result, done: true } : fail(b);
}

/**
 * After the last seal: nothing may carry a seq beyond it, no event that
 * committed at or below its watermark may be unsealed, and the oldest
 * unsealed event must be younger than `stalledAfterMs`.
 */
async function checkTail(
  ctx: QueryCtx,
  head: Seal | null,
  now: number,
  stalledAfterMs: number,
  result: VerifyResult,
): Promise<Break | null> {
  const lastTo = head === null ? -1 : head.toSeq;
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
    return {
      kind: "event_inserted",
      seq: stray,
      message: `seq ${stray} is beyond the last seal (toSeq ${lastTo}): inserted, or the newest seal was deleted`,
    };
  }
  if (head !== null) {
    const below = await ctx.db
      .query("auditEvents")
      .withIndex("by_seq", (q) => q.eq("seq", undefined).lte("commitTs", head.upTo))
      .first();
    if (below !== null) {
      const aside = await ctx.db
        .query("auditSetAside")
        .withIndex("by_event", (q) => q.eq("event", below._id))
        .first();
      return {
        kind: "event_unsealed",
        message:
          aside !== null
            ? `the sealer set event ${below._id} aside: ${aside.reason}`
            : `event ${below._id} committed before seal ${head.n} but is not sealed: inserted by hand`,
      };
    }
  }
  const backlog = await ctx.db
    .query("auditEvents")
    .withIndex("by_seq", (q) =>
      head === null ? q.eq("seq", undefined) : q.eq("seq", undefined).gt("commitTs", head.upTo),
    )
    .take(BACKLOG_COUNT_CAP + 1);
  const oldest = backlog[0];
  const oldestAt = oldest === undefined ? null : commitMs(committedAt(oldest));
  result.liveness = {
    unsealed: min(backlog.length, BACKLOG_COUNT_CAP),
    unsealedCapped: backlog.length > BACKLOG_COUNT_CAP,
    oldestUnsealedAt: oldestAt,
    headSealedAt: head?.sealedAt ?? null,
  };
  const newest = backlog[backlog.length - 1];
  if (newest !== undefined && commitMs(committedAt(newest)) > now + CLOCK_BOUND_MS) {
    return { kind: "time_mismatch", message: `event ${newest._id} commits in the future` };
  }
  if (oldestAt !== null && now - oldestAt > stalledAfterMs) {
    return {
      kind: "sealing_stalled",
      message: `the oldest unsealed event committed ${round((now - oldestAt) / 1000)} s ago (threshold ${round(stalledAfterMs / 1000)} s); is the maintenance loop running?`,
    };
  }
  return null;
}

/** Checks a seal's own fields against its predecessor. */
async function checkSealHeader(prev: Seal | null, s: Seal, now: number): Promise<Break | null> {
  const expectedN = prev === null ? 0 : prev.n + 1;
  const edited = (message: string): Break => ({ kind: "seal_edited", seal: s.n, message });
  if (!Number.isSafeInteger(s.n) || !Number.isSafeInteger(s.fromSeq) || !isHash(s.hash))
    return { kind: "malformed", message: `seal ${String(s.n)} has malformed fields` };
  if (s.n > expectedN)
    return { kind: "seal_deleted", seal: expectedN, message: `seal ${expectedN} is missing` };
  if (s.n !== expectedN)
    return { kind: "seal_inserted", seal: s.n, message: `seal number ${s.n} repeats` };
  if ((await sealHash(s)) !== s.hash) return edited(`seal ${s.n} does not match its hash`);
  if (s.prevHash !== (prev === null ? GENESIS_HASH : prev.hash))
    return edited(`seal ${s.n} does not chain to seal ${s.n - 1}`);
  if (!sealRangeOk(s, prev === null ? -1 : prev.toSeq))
    return edited(`seal ${s.n} covers an impossible range ${s.fromSeq}..${s.toSeq}`);
  // The commit watermark only grows.
  if (prev !== null && s.upTo < prev.upTo)
    return edited(`seal ${s.n} lowers the commit watermark of seal ${prev.n}`);
  const late = abs(s.sealedAt - s._creationTime) > CLOCK_BOUND_MS;
  const future = commitMs(s.upTo) > s.sealedAt + CLOCK_BOUND_MS;
  if (late || future || s.sealedAt > now + CLOCK_BOUND_MS)
    return {
      kind: "time_mismatch",
      seal: s.n,
      message: `seal ${s.n} is dated ${s.sealedAt} but was created at ${round(s._creationTime)}: forged`,
    };
  return null;
}

type Holder = { event: Doc<"auditEvents"> } | { stub: Doc<"auditRetained"> };

/**
 * Checks a seal's skip links: one per older seal skips.ts names, each the
 * hash that seal has in the chain (read when it is not on this page).
 */
async function skipsProblem(
  ctx: QueryCtx,
  s: Seal,
  known: Map<number, string>,
): Promise<Break | null> {
  const edited = (message: string): Break => ({ kind: "seal_edited", seal: s.n, message });
  const targets = skipTargets(s.n);
  if (s.skips.length !== targets.length)
    return edited(`seal ${s.n} has ${s.skips.length} skip links, not ${targets.length}`);
  for (const [i, t] of targets.entries()) {
    const hash = known.get(t) ?? (await sealNumbered(ctx, t))?.hash;
    if (s.skips[i] !== hash) return edited(`seal ${s.n} skips to a seal ${t} not in the chain`);
  }
  return null;
}

/** Checks one seal's events (after its header and links). Returns the first break or null. */
async function checkSeal(
  ctx: QueryCtx,
  prev: Seal | null,
  s: Seal,
  now: number,
  result: VerifyResult,
): Promise<Break | null> {
  const { events, stubs } = await storedLeaves(ctx, s.fromSeq, s.toSeq);
  const bySeq = new Map<number, Holder[]>();
  const add = (seq: number, item: Holder) => bySeq.set(seq, [...(bySeq.get(seq) ?? []), item]);
  for (const e of events) if (e.seq !== undefined) add(e.seq, { event: e });
  for (const st of stubs) add(st.seq, { stub: st });
  for (const seq of bySeq.keys()) {
    if (!Number.isInteger(seq))
      return { kind: "malformed", seal: s.n, message: `an event has non-integer seq ${seq}` };
  }
  const leaves: string[] = [];
  const commits: bigint[] = [];
  for (let seq = s.fromSeq; seq <= s.toSeq; seq++) {
    const items = bySeq.get(seq) ?? [];
    const at = { seal: s.n, seq };
    const [item] = items;
    if (item === undefined)
      return { kind: "event_deleted", ...at, message: `the event with seq ${seq} is missing` };
    if (items.length > 1)
      return {
        kind: "event_inserted",
        ...at,
        message: `seq ${seq} is held by ${items.length} rows`,
      };
    if ("event" in item) {
      const { event } = item;
      const problem =
        (await eventProblem(event)) ??
        sealedAfter(event, prev) ??
        (await servingRowsProblem(ctx, event));
      if (problem !== null) return { ...problem, ...at };
      leaves.push(event.leafHash);
      commits.push(committedAt(event));
      continue;
    }
    const { stub } = item;
    if (!(stub.retainUntil <= now))
      return {
        kind: "retained_early",
        ...at,
        message: `seq ${seq} was removed before its horizon`,
      };
    if (!isHash(stub.payloadHash))
      return { kind: "malformed", ...at, message: `the stub of seq ${seq} is malformed` };
    leaves.push(await sealedLeaf(stub));
    commits.push(stub.commitTs);
    const last = result.retained[result.retained.length - 1];
    if (last !== undefined && last.toSeq === seq - 1) last.toSeq = seq;
    else result.retained.push({ fromSeq: seq, toSeq: seq });
  }
  if ((await merkleRoot(leaves)) !== s.root) {
    return {
      kind: "root_mismatch",
      seal: s.n,
      message: `the events of seal ${s.n} (seq ${s.fromSeq}..${s.toSeq}) were reordered or replaced, or its root was edited`,
    };
  }
  if (s.commits !== (await commitsDigest(commits))) {
    return {
      kind: "time_mismatch",
      seal: s.n,
      message: `the commit timestamps of the events of seal ${s.n} were edited`,
    };
  }
  return null;
}

/** An event sealed in seal n committed after seal n-1's watermark (or it was back-dated into it). */
function sealedAfter(e: Doc<"auditEvents">, prev: Seal | null) {
  if (prev === null || committedAt(e) > prev.upTo) return null;
  return {
    kind: "time_mismatch" as const,
    message: `event ${e._id} committed before the watermark of seal ${prev.n} but is sealed after it`,
  };
}
