/**
 * The rate-limit store: every decision and every state write goes through it
 * (`limit`, `limitAll`, `check`, `reset`, `credit`, codes' and API keys'
 * budgets; `getValue`, blocks and the pass use its ./shards.ts and
 * ./async.ts). A call is normalized once (`hostCall` / `guardCall`);
 * `evaluate` decides it, transactional or asynchronous (a stale snapshot
 * plus its own transaction's rows, for every caller alike); `settle` is the
 * one place a decision is written: shard states through the one writer, a
 * pending row, or a denial's stats row.
 */
import { internal } from "../_generated/api.js";
import type { Doc } from "../_generated/dataModel.js";
import type { DatabaseReader, MutationCtx, QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { sweepDue } from "../maintenance/due.js";
import { ensureMaintenance } from "../maintenance/kick.js";
import {
  FOLD_DELAY_MS,
  FOLD_WAIT_MS,
  MAX_UNFOLDED,
  RESET_MARK_MS,
  appendPending,
  decideOnApplied,
  deletePending,
  foldRows,
  foldTarget,
  readAsyncView,
  readOwnRows,
  type AsyncView,
  type ChainLink,
} from "./async.js";
import {
  admissibleCount,
  assertCount,
  normalizeConfig,
  shardConfig,
  type NormalizedConfig,
} from "./config.js";
import { creditState, decide, idleAt, type Decision, type ShardRead } from "./math.js";
import type { LimitAllResult, RateLimitConfigArg, RateLimitResult } from "./model.js";
import {
  activeBlock,
  blockSeenFrom,
  blockedDecision,
  guardTarget,
  hostTarget,
  NO_STATE,
  randomInt,
  readShard,
  readShards,
  stateOf,
  writeState,
  type Target,
} from "./shards.js";
import * as stats from "./stats.js";
import { max, min } from "../lib/math.js";

export { hostTarget, type Target } from "./shards.js";

/** A request as convex-guard's own modules make it (codes' and API keys' budgets). */
export type LimitRequest = {
  name: string;
  /** "" is the name's single shared value. */
  key: string;
  /** Checked by `normalizeConfig` when the call is made (`guardCall`). */
  config: RateLimitConfigArg;
  count?: number;
  reserve?: boolean;
};

/** A request as a public function receives it: `key` omitted = shared. */
export type PublicRequest = Omit<LimitRequest, "key"> & { key?: string };

/** Most requests one `limitAll` may combine. */
export const MAX_LIMIT_ALL = 16;

/** A call, checked: where, with what config, how much. */
export type Call = {
  target: Target;
  config: NormalizedConfig;
  count: number;
  reserve: boolean;
};

function call(
  target: Target,
  req: { config: RateLimitConfigArg; count?: number; reserve?: boolean },
): Call {
  const config = normalizeConfig(req.config, target.name);
  const reserve = req.reserve ?? false;
  const count = admissibleCount(config, req.count ?? 1, reserve, target.name);
  return { target, config, count, reserve };
}

/** A host's call: reserved names and an explicit "" key refused (throws before any read). */
export function hostCall(req: PublicRequest): Call {
  return call(hostTarget(req.name, req.key), req);
}

/** convex-guard's own call (reserved names allowed). */
export function guardCall(req: LimitRequest): Call {
  return call(guardTarget(req.name, req.key), req);
}

type Final = Exclude<Decision, { needSecondShard: true }>;

type Evaluated = {
  call: Call;
  decision: Final;
  docs: Map<number, Doc<"rateLimits"> | null>;
  /** Asynchronous: what an admitted call's row records for later calls. */
  link?: ChainLink;
};

/** A decision that needs no second read (one shard was all there is to read). */
function final(d: Decision): Final {
  if (!d.ok && d.needSecondShard) {
    throw guardError(ErrorCode.INTERNAL, "rate limit: a decision asked for a third shard");
  }
  return d;
}

/**
 * Decides a call. `stale`: the mutation an asynchronous call runs in, whose
 * nested query reads a stale snapshot; without it (queries), the snapshot
 * read is the query's own. Not itself async: a one-shard transactional call,
 * the common case, is its one read and a decision on it, and each async
 * layer costs promises, which convex-test tracks one by one.
 */
function evaluate(
  db: DatabaseReader,
  c: Call,
  now: number,
  stale?: MutationCtx,
): Promise<Evaluated> {
  if (c.config.async) return evaluateAsync(db, c, now, stale);
  if (c.config.shards === 1) {
    return readShard(db, c.target, 0).then((doc) => decideOneShard(c, doc, now));
  }
  return evaluateSharded(db, c, now);
}

/** A sharded transactional call: a random shard, and a second one when the first has too little. */
async function evaluateSharded(db: DatabaseReader, c: Call, now: number): Promise<Evaluated> {
  const t = c.target;
  const n = c.config.shards;
  const engine = c.config.algorithm;
  const first = randomInt(n);
  const doc = await readShard(db, t, first);
  const docs = new Map<number, Doc<"rateLimits"> | null>();
  docs.set(first, doc);
  // The first read settles whether the key is blocked (./shards.ts,
  // `blockSeenFrom`, which needs no await when the document holds the
  // answer); a second shard's read needs no block lookup of its own.
  const reads: ShardRead[] = [{ shard: first, state: stateOf(engine, doc) }];
  const seen = blockSeenFrom(db, t, first, doc, now);
  const blocked = seen instanceof Promise ? await seen : seen;
  if (blocked) return { call: c, decision: blocked, docs };
  let decision = decide(c.config, reads, t.seed, now, c.count, c.reserve);
  if (!decision.ok && decision.needSecondShard) {
    const second = (first + 1 + randomInt(n - 1)) % n;
    const doc2 = await readShard(db, t, second);
    docs.set(second, doc2);
    reads.push({ shard: second, state: stateOf(engine, doc2) });
    decision = decide(c.config, reads, t.seed, now, c.count, c.reserve);
  }
  return { call: c, decision: final(decision), docs };
}

/**
 * A one-shard transactional call, decided from its document: its one read
 * also holds any block, and a decision never asks for a second shard.
 */
function decideOneShard(c: Call, doc: Doc<"rateLimits"> | null, now: number): Evaluated {
  const docs = new Map<number, Doc<"rateLimits"> | null>();
  docs.set(0, doc);
  const state = stateOf(c.config.algorithm, doc);
  const decision =
    blockedDecision(doc, now) ??
    final(decide(c.config, [{ shard: 0, state }], c.target.seed, now, c.count, c.reserve));
  return { call: c, decision, docs };
}

async function evaluateAsync(
  db: DatabaseReader,
  c: Call,
  now: number,
  stale: MutationCtx | undefined,
): Promise<Evaluated> {
  const t = c.target;
  const view: AsyncView = stale
    ? await stale.runQuery(
        internal.rateLimits.asyncView,
        { name: t.name, key: t.key },
        { useStaleSnapshot: true },
      )
    : await readAsyncView(db, t, 0n);
  const docs = new Map<number, Doc<"rateLimits"> | null>();
  const blocked = blockedDecision(view, now);
  if (blocked) return { call: c, decision: blocked, docs };
  const own = stale ? await readOwnRows(db, t) : [];
  if (view.rows.length + own.length > MAX_UNFOLDED) {
    return { call: c, decision: { ok: false, retryAfter: FOLD_WAIT_MS }, docs };
  }
  const engine = c.config.algorithm;
  const s = shardConfig(c.config);
  const decode = (st: AsyncView["base"]) => (st === null ? null : engine.decode(st));
  // `applied` is what the call's row records: committed consumption only. Its
  // own transaction's rows commit with it, so later calls read them as rows.
  const applied = foldRows(s, decode(view.base), t.seed, view.rows);
  const seen = foldRows(s, applied, t.seed, own);
  const folded = decode(view.folded);
  const decision = final(decideOnApplied(c.config, folded, seen, t.seed, now, c.count, c.reserve));
  const link = { upTo: view.upTo, applied: applied === null ? null : engine.encode(applied) };
  return { call: c, decision, docs, link };
}

function result(d: Final): RateLimitResult {
  if (!d.ok) {
    return d.reason
      ? { ok: false, retryAfter: d.retryAfter, reason: d.reason }
      : { ok: false, retryAfter: d.retryAfter };
  }
  return d.retryAfter !== undefined ? { ok: true, retryAfter: d.retryAfter } : { ok: true };
}

/**
 * Writes what a decision admitted, or counts its denial: the one place either
 * happens. Not itself async: the common case, an admitted one-shard call on
 * an existing document without stats, is one write, whose promise it returns.
 */
function settle(ctx: MutationCtx, e: Evaluated, now: number): Promise<unknown> {
  const { call: c, decision: d } = e;
  const single = d.ok && !c.config.async && !c.config.stats && d.writes.length === 1;
  const w = single ? d.writes[0] : undefined;
  const doc = w && e.docs.get(w.shard);
  if (w && doc)
    return writeState(ctx, c.target, w.shard, doc, c.config.algorithm, w.state, w.idleAt);
  return settleEach(ctx, e, now);
}

/**
 * `settle` in full: a denial's stats, an asynchronous call's pending row, or
 * each shard's write with its stats counters, then the sweep's schedule for
 * a document it inserted.
 */
async function settleEach(ctx: MutationCtx, e: Evaluated, now: number) {
  const { call: c, decision: d } = e;
  const t = c.target;
  if (!d.ok) {
    await stats.recordDenied(ctx, t, { stats: c.config.stats, count: c.count }, now);
    return;
  }
  if (c.config.async) {
    if (c.count > 0 && e.link) {
      const { name, key } = t;
      const logAt = c.reserve && d.retryAfter !== undefined ? now + d.retryAfter : undefined;
      const row = {
        name,
        key,
        count: c.count,
        ts: now,
        config: c.config.given,
        ...(logAt ? { logAt } : {}),
      };
      await appendPending(ctx, row, e.link);
      await ensureMaintenance(ctx, now, now + FOLD_DELAY_MS);
    }
    return;
  }
  let firstIdleAt = Infinity;
  for (let i = 0; i < d.writes.length; i++) {
    const w = d.writes[i]!;
    const doc = e.docs.get(w.shard) ?? null;
    // The call is counted once, on the first shard it writes.
    const counters = c.config.stats
      ? await stats.admittedStats(ctx, t, doc, i === 0 ? c.count : 0, now)
      : undefined;
    await writeState(ctx, t, w.shard, doc, c.config.algorithm, w.state, w.idleAt, counters);
    if (doc === null) firstIdleAt = min(firstIdleAt, w.idleAt);
  }
  if (firstIdleAt < Infinity) await ensureMaintenance(ctx, now, sweepDue(firstIdleAt));
}

/** Consumes `count` if allowed; a denied call writes only its stats row. */
export async function consume(ctx: MutationCtx, c: Call, now: number): Promise<RateLimitResult> {
  const e = await evaluate(ctx.db, c, now, ctx);
  await settle(ctx, e, now);
  return result(e.decision);
}

/** Would the call be admitted now? Reads only. */
export async function peek(ctx: QueryCtx, c: Call, now: number): Promise<RateLimitResult> {
  return result((await evaluate(ctx.db, c, now)).decision);
}

/** `consume` and `peek` of one of convex-guard's own limits. */
export const consumeRateLimit = (ctx: MutationCtx, req: LimitRequest, now: number) =>
  consume(ctx, guardCall(req), now);
export const peekRateLimit = (ctx: QueryCtx, req: LimitRequest, now: number) =>
  peek(ctx, guardCall(req), now);

/**
 * Decides now, settles later: `consume()` writes what the decision admitted
 * (or counts the denial) without reading the state again. codes.ts checks
 * the failure budget before evaluating a guess and counts the failure after,
 * at the cost of one read. Valid while nothing else writes this limit in
 * between.
 */
export async function peekThenConsume(
  ctx: MutationCtx,
  req: LimitRequest,
  now: number,
): Promise<{ result: RateLimitResult; consume: () => Promise<unknown> }> {
  const e = await evaluate(ctx.db, guardCall(req), now, ctx);
  return { result: result(e.decision), consume: () => settle(ctx, e, now) };
}

/** `limitAll`'s result; a denial also names its first denied request (for `throws`). */
export type LimitAllDecision =
  | Extract<LimitAllResult, { ok: true }>
  | (Extract<LimitAllResult, { ok: false }> & { denied: string });

/**
 * All or nothing: consumes every request if each would be admitted, else
 * nothing (denials are counted). `retryAfter` when denied is the latest of
 * the denials.
 */
export async function limitAll(
  ctx: MutationCtx,
  requests: PublicRequest[],
  now: number,
): Promise<LimitAllDecision> {
  const n = requests.length;
  if (n === 0) throw guardError(ErrorCode.INVALID_ARGUMENT, "limitAll needs at least one request");
  if (n > MAX_LIMIT_ALL) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `limitAll takes at most ${MAX_LIMIT_ALL} requests, got ${n}`,
      { count: n, limit: MAX_LIMIT_ALL },
    );
  }
  const calls = requests.map(hostCall);
  const seen = new Set<string>();
  for (const c of calls) {
    if (seen.has(c.target.seed)) {
      throw guardError(
        ErrorCode.INVALID_ARGUMENT,
        `limitAll got rate limit "${c.target.name}" twice for the same key; combine the counts`,
        { name: c.target.name },
      );
    }
    seen.add(c.target.seed);
  }
  const evaluated: Evaluated[] = [];
  for (const c of calls) evaluated.push(await evaluate(ctx.db, c, now, ctx));
  const results = evaluated.map((e) => ({ name: e.call.target.name, ...result(e.decision) }));
  const denied = evaluated.filter((e) => !e.decision.ok);
  const firstDenied = denied[0];
  if (firstDenied !== undefined) {
    const retryAfter = max(...denied.map((e) => (e.decision.ok ? 0 : e.decision.retryAfter)));
    for (const e of denied) await settle(ctx, e, now);
    return { ok: false, retryAfter, results, denied: firstDenied.call.target.name };
  }
  for (const e of evaluated) await settle(ctx, e, now);
  const wait = max(...results.map((r) => r.retryAfter ?? 0));
  return wait > 0 ? { ok: true, retryAfter: wait, results } : { ok: true, results };
}

/**
 * Deletes the state of a target on every shard: the next call starts fresh.
 * Never lifts a block (a blocked document keeps its block, without state).
 * An asynchronous limit's state document keeps a mark of the reset
 * (`resetAt`, ./async.ts), so a call decided before it never counts after it.
 */
export async function reset(ctx: MutationCtx, t: Target, now: number): Promise<void> {
  const docs = await readShards(ctx.db, t);
  const hadPending = await deletePending(ctx, t);
  const zero = docs.find((d) => d.shard === 0);
  const mark =
    hadPending || zero?.foldedThrough !== undefined || zero?.resetAt !== undefined
      ? { resetAt: ctx.db.vars.commitTs, resetUntil: now + RESET_MARK_MS }
      : null;
  for (const doc of docs) {
    await stats.flushCounters(ctx, doc);
    const block = activeBlock(doc, now);
    const marked = doc.shard === 0 ? mark : null;
    if (block === null && marked === null) {
      await ctx.db.delete("rateLimits", doc._id);
      continue;
    }
    await ctx.db.patch("rateLimits", doc._id, {
      ...NO_STATE,
      idleAt: max(block?.until ?? 0, marked?.resetUntil ?? 0),
      ...stats.NO_COUNTERS,
      ...marked,
    });
  }
  if (zero === undefined && mark !== null) {
    const idle = mark.resetUntil;
    await ctx.db.insert("rateLimits", {
      name: t.name,
      key: t.key,
      shard: 0,
      idleAt: idle,
      ...mark,
    });
    await ensureMaintenance(ctx, now, sweepDue(idle));
  }
}

/**
 * Gives back up to `count` unused tokens, never above a shard's capacity;
 * touches at most two shards. Returns how much was credited. An
 * asynchronous limit's unfolded calls are folded first, so they can be
 * credited too.
 */
export async function credit(
  ctx: MutationCtx,
  t: Target,
  raw: RateLimitConfigArg,
  count: number,
  now: number,
): Promise<{ credited: number }> {
  const config = normalizeConfig(raw, t.name);
  assertCount(count, t.name);
  if (config.async) await foldTarget(ctx, t);
  const s = shardConfig(config);
  const n = config.shards;
  const first = n === 1 ? 0 : randomInt(n);
  const order = n === 1 ? [first] : [first, (first + 1 + randomInt(n - 1)) % n];
  let left = count;
  for (const shard of order) {
    if (left <= 0) break;
    const doc = await readShard(ctx.db, t, shard);
    const state = stateOf(config.algorithm, doc);
    if (state === null) continue; // no state = full
    const c = creditState(s, state, t.seed, now, left);
    if (c.credited <= 0) continue;
    left -= c.credited;
    await writeState(
      ctx,
      t,
      shard,
      doc,
      config.algorithm,
      c.state,
      idleAt(s, c.state, t.seed, now),
    );
  }
  return { credited: count - left };
}
