/**
 * The rate limiter's reads and writes: one shard document per (name, key,
 * shard), read by index, decided by ./math.ts, written back. The public
 * functions in ../rateLimits.ts and codes.ts's budgets call these.
 */
import type { Doc } from "../_generated/dataModel.js";
import type { DatabaseReader, MutationCtx, QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { assertKey, assertString } from "../lib/validate.js";
import { sweepDue } from "../maintenance/due.js";
import { ensureMaintenance } from "../maintenance/kick.js";
import {
  MAX_NAME_BYTES,
  assertNotReserved,
  admissibleCount,
  normalizeConfig,
  shardConfig,
  type NormalizedConfig,
} from "./config.js";
import {
  FOLD_DELAY_MS,
  FOLD_WAIT_MS,
  MAX_UNFOLDED,
  appendPending,
  decideOnApplied,
  foldRows,
  readChained,
  readPending,
  type AsyncView,
  type ChainLink,
} from "./async.js";
import { randomInt, readShard, seedOf, toState } from "./shards.js";
import { blockedDecision } from "./blocks.js";
import * as stats from "./stats.js";
import { decide, type Decision, type ShardRead, type ShardWrite } from "./math.js";
import type { LimitAllResult, RateLimitConfig, RateLimitResult } from "./model.js";

/** A request as component modules make it (codes.ts uses these for its issue and failure limits). */
export type LimitRequest = {
  name: string;
  /** "" is the name's single shared value (public functions map an omitted key to it). */
  key: string;
  config: RateLimitConfig;
  count?: number;
  reserve?: boolean;
};

/** A request as a public function receives it: `key` omitted = shared. */
export type PublicRequest = {
  name: string;
  key?: string;
  count?: number;
  reserve?: boolean;
  config: RateLimitConfig;
};

/** Most requests one `limitAll` may combine. */
export const MAX_LIMIT_ALL = 16;

type Prepared = {
  name: string;
  key: string;
  config: NormalizedConfig;
  count: number;
  reserve: boolean;
  rawConfig: RateLimitConfig;
  /** Seeds the per-key fixed-window alignment. */
  seed: string;
};

/** Validates a request (throws before any read or write). Reserved names pass: codes.ts uses them. */
function prepare(req: LimitRequest): Prepared {
  assertString(req.name, "name", MAX_NAME_BYTES);
  if (typeof req.key !== "string")
    throw guardError(ErrorCode.INVALID_ARGUMENT, "key must be a string");
  if (req.key !== "") assertKey(req.key);
  const config = normalizeConfig(req.config, req.name);
  const reserve = req.reserve ?? false;
  const count = admissibleCount(config, req.count ?? 1, reserve, req.name);
  const seed = seedOf(req.name, req.key);
  return { name: req.name, key: req.key, config, count, reserve, rawConfig: req.config, seed };
}

/**
 * Maps a public request to an internal one; `prepare` validates name and key.
 * Refused here: reserved names (only convex-guard's own limits use them) and
 * an explicit "" key (internally "" means the shared value).
 */
export function fromPublic(args: PublicRequest): LimitRequest {
  assertNotReserved(args.name);
  if (args.key === "") assertKey(args.key);
  return {
    name: args.name,
    key: args.key ?? "",
    config: args.config,
    count: args.count,
    reserve: args.reserve,
  };
}

type Evaluated = {
  p: Prepared;
  decision: Exclude<Decision, { needSecondShard: true }>;
  docs: Map<number, Doc<"rateLimits"> | null>;
  /** Asynchronous, decided on a stale snapshot: what the call's row records (see readChained). */
  link?: ChainLink;
};

/**
 * Reads one random shard; reads a second (never more) only when the limit has
 * >= 3 shards and the first cannot admit the call alone.
 */
async function evaluate(db: DatabaseReader, p: Prepared, now: number): Promise<Evaluated> {
  if (p.config.async) return evaluateAsync(db, p, now);
  const n = p.config.shards;
  const first = n === 1 ? 0 : randomInt(n);
  const docs = new Map<number, Doc<"rateLimits"> | null>();
  docs.set(first, await readShard(db, p.name, p.key, first));
  const blocked = blockedDecision(docs.get(first)!, now);
  if (blocked) return { p, decision: blocked, docs };
  const reads: ShardRead[] = [{ shard: first, state: toState(docs.get(first)!) }];
  let decision = decide(p.config, reads, p.seed, now, p.count, p.reserve);
  if (!decision.ok && decision.needSecondShard) {
    const second = (first + 1 + randomInt(n - 1)) % n;
    docs.set(second, await readShard(db, p.name, p.key, second));
    reads.push({ shard: second, state: toState(docs.get(second)!) });
    decision = decide(p.config, reads, p.seed, now, p.count, p.reserve);
  }
  if (!decision.ok && decision.needSecondShard)
    throw guardError(ErrorCode.INTERNAL, "a decision asked for a third shard");
  return { p, decision, docs };
}

/**
 * An asynchronous limit's view: its folded state and the unfolded rows this
 * snapshot holds. With `snapshot` (a stale snapshot of committed data), the
 * rows start after the newest chain link (readChained) and the decision
 * returns the link its own row records.
 */
async function evaluateAsync(
  db: DatabaseReader,
  p: Prepared,
  now: number,
  snapshot?: bigint,
): Promise<Evaluated> {
  const doc = await readShard(db, p.name, p.key, 0);
  const docs = new Map([[0, doc]]);
  const blocked = blockedDecision(doc, now);
  if (blocked) return { p, decision: blocked, docs };
  const view: AsyncView =
    snapshot === undefined
      ? { base: toState(doc), rows: await readPending(db, p.name, p.key) }
      : await readChained(db, doc, p.name, p.key);
  if (view.rows.length > MAX_UNFOLDED) {
    return { p, decision: { ok: false, retryAfter: FOLD_WAIT_MS }, docs };
  }
  const { config, seed, count, reserve } = p;
  const applied = foldRows(shardConfig(config), view.base, seed, view.rows);
  const decision = decideOnApplied(config, toState(doc), applied, seed, now, count, reserve);
  if (snapshot === undefined) return { p, decision, docs };
  return { p, decision, docs, link: { upTo: snapshot, applied } };
}

/** Patches existing shard documents, inserts new ones (starting maintenance only then). */
async function applyWrites(ctx: MutationCtx, e: Evaluated, writes: ShardWrite[], now: number) {
  if (e.p.config.async) {
    const { name, key, count } = e.p;
    if (count > 0) await appendPending(ctx, { name, key, count, ts: now, config: e.p.rawConfig });
    await ensureMaintenance(ctx, now, now + FOLD_DELAY_MS);
    return;
  }
  let firstIdleAt = Infinity;
  for (const [i, w] of writes.entries()) {
    const doc = e.docs.get(w.shard);
    const fields = {
      ...stateFields(w, doc ?? null),
      // The call is counted once, on the first shard it writes.
      ...(e.p.config.stats
        ? await stats.admittedStats(ctx, e.p, doc ?? null, i === 0 ? e.p.count : 0, now)
        : {}),
    };
    if (doc) {
      await ctx.db.patch("rateLimits", doc._id, fields);
    } else {
      await ctx.db.insert("rateLimits", {
        name: e.p.name,
        key: e.p.key,
        shard: w.shard,
        ...fields,
      });
      firstIdleAt = Math.min(firstIdleAt, fields.idleAt);
    }
  }
  if (firstIdleAt < Infinity) await ensureMaintenance(ctx, now, sweepDue(firstIdleAt));
}

/**
 * The fields to write. `prev` and `log` appear only when the state or the
 * document has them (a patch with `undefined` deletes the field), so the
 * common patch stays small.
 */
function stateFields(w: ShardWrite, doc: Doc<"rateLimits"> | null) {
  const { value, ts, prev, log } = w.state;
  return {
    value,
    ts,
    idleAt: w.idleAt,
    ...(prev !== undefined || doc?.prev !== undefined ? { prev } : {}),
    ...(log !== undefined || doc?.log !== undefined ? { log } : {}),
  };
}

function result(d: Evaluated["decision"]): RateLimitResult {
  if (!d.ok) {
    return d.reason
      ? { ok: false, retryAfter: d.retryAfter, reason: d.reason }
      : { ok: false, retryAfter: d.retryAfter };
  }
  return d.retryAfter !== undefined ? { ok: true, retryAfter: d.retryAfter } : { ok: true };
}

/** Consumes `count` (default 1) if allowed; a denied call writes nothing. Throws only for bad input. */
export async function consumeRateLimit(
  ctx: MutationCtx,
  req: LimitRequest,
  now: number,
): Promise<RateLimitResult> {
  const peeked = await peekThenConsume(ctx, req, now);
  await peeked.consume();
  return peeked.result;
}

/**
 * Decides now, consumes later: `consume()` writes what the decision admitted
 * (nothing if denied) without reading the state again. codes.ts checks the
 * failure budget before evaluating a guess and counts the failure after, at
 * the cost of one read. Valid while nothing else writes this limit in between.
 */
export async function peekThenConsume(
  ctx: MutationCtx,
  req: LimitRequest,
  now: number,
): Promise<{ result: RateLimitResult; consume: () => Promise<void> }> {
  const e = await evaluate(ctx.db, prepare(req), now);
  const d = e.decision;
  return {
    result: result(d),
    consume: async () => {
      if (d.ok) await applyWrites(ctx, e, d.writes, now);
      else await stats.recordDenied(ctx, e.p, { stats: e.p.config.stats, count: e.p.count }, now);
    },
  };
}

/**
 * Records an admitted call of an asynchronous limit (decided by `check` on a
 * stale snapshot): one append, no read of the limit's state.
 */
export async function recordAsync(
  ctx: MutationCtx,
  req: LimitRequest,
  now: number,
  link?: ChainLink,
) {
  const p = prepare(req);
  if (p.count > 0) {
    const row = { name: p.name, key: p.key, count: p.count, ts: now, config: p.rawConfig };
    await appendPending(ctx, row, link);
    await ensureMaintenance(ctx, now, now + FOLD_DELAY_MS);
  }
}

/** Would `count` be allowed now? Reads only. */
export async function peekRateLimit(
  ctx: QueryCtx,
  req: LimitRequest,
  now: number,
): Promise<RateLimitResult> {
  return result((await evaluate(ctx.db, prepare(req), now)).decision);
}

/**
 * `check` of an asynchronous limit for `limit`'s stale-snapshot query: the
 * result, and the chain link the admitted call's row records.
 */
export async function peekAsyncStale(
  ctx: QueryCtx,
  req: LimitRequest,
  now: number,
): Promise<{ result: RateLimitResult; link?: ChainLink }> {
  const e = await evaluateAsync(ctx.db, prepare(req), now, ctx.meta.getSnapshotTs());
  return e.link && e.decision.ok
    ? { result: result(e.decision), link: e.link }
    : { result: result(e.decision) };
}

/**
 * All or nothing: consumes every request if each would be admitted, else
 * nothing. `retryAfter` when denied is the latest of the denials; `denied`
 * names the first denied request (for `throws`).
 */
export async function limitAllRequests(
  ctx: MutationCtx,
  requests: PublicRequest[],
  now: number,
): Promise<LimitAllResult & { denied?: string }> {
  const n = requests.length;
  if (n === 0) throw guardError(ErrorCode.INVALID_ARGUMENT, "limitAll needs at least one request");
  if (n > MAX_LIMIT_ALL) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `limitAll takes at most ${MAX_LIMIT_ALL} requests, got ${n}`,
      { count: n, limit: MAX_LIMIT_ALL },
    );
  }
  const prepared = requests.map((r) => prepare(fromPublic(r)));
  const seen = new Set<string>();
  for (const p of prepared) {
    if (seen.has(p.seed)) {
      throw guardError(
        ErrorCode.INVALID_ARGUMENT,
        `limitAll got rate limit "${p.name}" twice for the same key; combine the counts`,
        { name: p.name },
      );
    }
    seen.add(p.seed);
  }
  const evaluated: Evaluated[] = [];
  for (const p of prepared) evaluated.push(await evaluate(ctx.db, p, now));
  const results = evaluated.map(({ p, decision }) => ({ name: p.name, ...result(decision) }));
  const denied = evaluated.filter((e) => !e.decision.ok);
  if (denied.length > 0) {
    const retryAfter = Math.max(...denied.map((e) => (e.decision.ok ? 0 : e.decision.retryAfter)));
    for (const e of denied)
      await stats.recordDenied(ctx, e.p, { stats: e.p.config.stats, count: e.p.count }, now);
    return { ok: false, retryAfter, results, denied: denied[0]!.p.name };
  }
  for (const e of evaluated) if (e.decision.ok) await applyWrites(ctx, e, e.decision.writes, now);
  const wait = Math.max(...results.map((r) => r.retryAfter ?? 0));
  return wait > 0 ? { ok: true, retryAfter: wait, results } : { ok: true, results };
}
