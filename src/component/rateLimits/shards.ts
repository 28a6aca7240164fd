/**
 * Shard documents: the one normalization of (name, key) into a target, the
 * index lookups, and the one place a state is decoded from or encoded into a
 * document (through its algorithm's codec). Blocks are read here too, since
 * every decision must see them in the documents it reads.
 */
import type { Doc } from "../_generated/dataModel.js";
import type { DatabaseReader, MutationCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { assertKey, assertString } from "../lib/validate.js";
import { STATE_FIELDS, type Engine, type StoredState } from "./algorithms/index.js";
import { MAX_NAME_BYTES, MAX_SHARDS, assertLimitName } from "./config.js";
import type { RateLimitState } from "./model.js";
import { floor, max } from "../lib/math.js";

/** A limit's (name, key), checked once at the boundary. `key` "" is the name's shared value. */
export type Target = {
  name: string;
  key: string;
  /** Seeds the per-key fixed-window alignment (stable, so a swept key keeps its windows). */
  seed: string;
};

function target(name: string, key: string): Target {
  return { name, key, seed: `${name}\u0000${key}` };
}

/**
 * A host's (name, key): the name is not in the reserved "guard:" namespace;
 * an omitted key is the shared value, an explicit "" is refused.
 */
export function hostTarget(name: string, key: string | undefined): Target {
  assertLimitName(name);
  if (key !== undefined) assertKey(key);
  return target(name, key ?? "");
}

/** convex-guard's own limits (codes, API keys): reserved names allowed; "" is the shared value. */
export function guardTarget(name: string, key: string): Target {
  assertString(name, "name", MAX_NAME_BYTES);
  if (typeof key !== "string") throw guardError(ErrorCode.INVALID_ARGUMENT, "key must be a string");
  if (key !== "") assertKey(key);
  return target(name, key);
}

/** A target rebuilt from a stored (name, key) (checked when it was written). */
export function storedTarget(row: { name: string; key: string }): Target {
  return target(row.name, row.key);
}

export function readShard(db: DatabaseReader, t: Target, shard: number) {
  return db
    .query("rateLimits")
    .withIndex("by_name_key_shard", (q) => q.eq("name", t.name).eq("key", t.key).eq("shard", shard))
    .unique();
}

/** Every shard document of a target (at most MAX_SHARDS). */
export function readShards(db: DatabaseReader, t: Target) {
  return db
    .query("rateLimits")
    .withIndex("by_name_key_shard", (q) => q.eq("name", t.name).eq("key", t.key))
    .take(MAX_SHARDS);
}

/** The state a document holds for `engine` (null: none, or one another algorithm stored). */
export function stateOf(engine: Engine, doc: Doc<"rateLimits"> | null): RateLimitState | null {
  return doc === null ? null : engine.decode(doc);
}

/** A document's stored state, as it is (for the asynchronous view), or null: none. */
export function storedStateOf(doc: Doc<"rateLimits"> | null): StoredState | null {
  if (doc === null || doc.alg === undefined) return null;
  const stored: Partial<Record<keyof StoredState, unknown>> = {};
  for (const field of STATE_FIELDS) if (doc[field] !== undefined) stored[field] = doc[field];
  return stored as StoredState;
}

/** A patch that removes a document's state, whichever algorithm stored it. */
export const NO_STATE: { [K in keyof StoredState]: undefined } = Object.fromEntries(
  STATE_FIELDS.map((field) => [field, undefined]),
) as { [K in keyof StoredState]: undefined };

/**
 * The one writer of a shard's state: the algorithm's stored form, and an
 * `idleAt` never before a block on the document ends (the sweep must not
 * delete a block). `extra`: fields of the same write (stats counters, the
 * fold's watermark). Inserts the document when `doc` is null. Not an async
 * function: every `limit` writes through it, and each async layer costs
 * promises (convex-test tracks every one).
 */
export function writeState(
  ctx: MutationCtx,
  t: Target,
  shard: number,
  doc: Doc<"rateLimits"> | null,
  engine: Engine,
  state: RateLimitState,
  idleAt: number,
  extra?: Partial<
    Pick<Doc<"rateLimits">, "statsHour" | "statsAllowed" | "statsConsumed" | "foldedThrough">
  >,
): Promise<unknown> {
  // The encoded state is a new object: the write's other fields are added to
  // it rather than spread into another (a spread per field set costs on every
  // call). An algorithm always writes the same fields, so only another's
  // state needs clearing.
  const stored = engine.encode(state);
  const replaced = doc !== null && doc.alg !== undefined && doc.alg !== stored.alg;
  const fields: Partial<Doc<"rateLimits">> = replaced
    ? Object.assign({}, NO_STATE, stored)
    : stored;
  const idle = keepWhileBlocked(doc, idleAt);
  fields.idleAt = idle;
  if (extra !== undefined) Object.assign(fields, extra);
  if (doc) return ctx.db.patch("rateLimits", doc._id, fields);
  return ctx.db.insert("rateLimits", { ...fields, name: t.name, key: t.key, shard, idleAt: idle });
}

type BlockFields = Pick<Doc<"rateLimits">, "blockedUntil" | "blockReason">;

/** The block a document holds while it lasts (at `now`), as `getValue` and `listBlocks` show it. */
export function activeBlock(
  doc: BlockFields | null,
  now: number,
): { until: number; reason?: string } | null {
  const until = doc?.blockedUntil;
  if (doc === null || until === undefined || until <= now) return null;
  return { until, ...(doc.blockReason !== undefined ? { reason: doc.blockReason } : {}) };
}

/** The denial of a key blocked at `now`, or null. */
export function blockedDecision(doc: BlockFields | null, now: number) {
  const block = activeBlock(doc, now);
  if (block === null) return null;
  return { ok: false as const, retryAfter: block.until - now, reason: "blocked" as const };
}

/** A document's `idleAt` never falls before its block ends. */
export function keepWhileBlocked(doc: BlockFields | null, idleAt: number): number {
  return max(idleAt, doc?.blockedUntil ?? 0);
}

/**
 * The block in force on a target, for a decision that read shard `shard`
 * and found `doc`. A block is written on shard 0 and every existing shard
 * document, so only a shard with no document (a shard count raised since)
 * reads shard 0; otherwise the answer needs no read (and no await).
 */
export function blockSeenFrom(
  db: DatabaseReader,
  t: Target,
  shard: number,
  doc: Doc<"rateLimits"> | null,
  now: number,
) {
  if (doc !== null || shard === 0) return blockedDecision(doc, now);
  return readShard(db, t, 0).then((doc0) => blockedDecision(doc0, now));
}

export function randomInt(n: number): number {
  return floor(Math.random() * n);
}
