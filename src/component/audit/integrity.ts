import type { CommitTsPlaceholder } from "convex/values";
import type { Doc } from "../_generated/dataModel.js";
import type { QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { eventLeaf, isHash, isSalt, secretMatches } from "./leaf.js";
import {
  CLOCK_BOUND_MS,
  ERASE_ACTION,
  MAX_TARGETS,
  subjectKey,
  tenantKey,
  type BreakKind,
} from "./model.js";
import { abs, round } from "../lib/math.js";

/**
 * What makes one stored event trustworthy, checked the same way by the sealer
 * (which sets a failing row aside instead of sealing it) and by `verify`.
 * Each check returns a problem with a reason, never throws: the rows were
 * possibly written by hand and may hold any value their validators allow
 * (NaN, negative numbers, strings that are not hex).
 */

export type Problem = { kind: BreakKind; message: string };

const isInt = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x);
const isTime = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;

/**
 * A stored commit timestamp. Only the mutation that wrote it sees a
 * placeholder instead, and none of the audit log's readers runs there: one
 * would be a broken invariant, a coded error rather than a guess.
 */
export function committedAt(e: { _id: string; commitTs: bigint | CommitTsPlaceholder }): bigint {
  if (typeof e.commitTs === "bigint") return e.commitTs;
  throw guardError(
    ErrorCode.INTERNAL,
    `the commit timestamp of ${e._id} was read in the transaction that wrote it`,
  );
}

/** Commit timestamp (ns on the database clock) in milliseconds. */
export function commitMs(ts: bigint): number {
  return Number(ts / 1_000_000n);
}

/** Checks one event document by itself: field types, leaf, index keys and clocks. */
export async function eventProblem(e: Doc<"auditEvents">): Promise<Problem | null> {
  const at = `event ${e._id}`;
  if (e.seq !== undefined && !(isInt(e.seq) && e.seq >= 0))
    return { kind: "malformed", message: `${at} has an impossible seq ${String(e.seq)}` };
  if (!isHash(e.leafHash))
    return { kind: "malformed", message: `${at} has a leafHash that is not 64 hex digits` };
  if (!isTime(e.recordedAt) || !isTime(e.occurredAt))
    return {
      kind: "malformed",
      message: `${at} has a recordedAt or occurredAt that is not a time`,
    };
  if (!isSalt(e.payloadSalt))
    return { kind: "malformed", message: `${at} has a payloadSalt that is not 32 hex digits` };
  let leaf: string;
  try {
    leaf = await eventLeaf(e);
  } catch {
    return { kind: "malformed", message: `${at} holds a value that cannot be hashed` };
  }
  if (leaf !== e.leafHash) return { kind: "event_edited", message: `${at} was edited` };
  if (e.actorKey !== subjectKey(e.actor) || e.tenantKey !== tenantKey(e.tenant))
    return {
      kind: "index_mismatch",
      message: `${at} has an actorKey or tenantKey of another event`,
    };
  if (abs(e.recordedAt - e._creationTime) > CLOCK_BOUND_MS)
    return {
      kind: "time_mismatch",
      message: `${at} has recordedAt ${e.recordedAt} but was created at ${round(e._creationTime)}: back- or future-dated`,
    };
  const ts = committedAt(e);
  if (abs(commitMs(ts) - e.recordedAt) > CLOCK_BOUND_MS)
    return {
      kind: "time_mismatch",
      message: `${at} has recordedAt ${e.recordedAt} but committed at ${commitMs(ts)}`,
    };
  return null;
}

/**
 * Checks the rows that serve an event (target rows for `list({ target })`,
 * the secrets row for `get(reveal)`): exactly the event's targets, and
 * values that match the event's commitments.
 */
export async function servingRowsProblem(
  ctx: QueryCtx,
  e: Doc<"auditEvents">,
): Promise<Problem | null> {
  const at = `event ${e._id}`;
  const rows = await ctx.db
    .query("auditTargets")
    .withIndex("by_event", (q) => q.eq("event", e._id))
    .take(MAX_TARGETS + 1);
  const want = new Set(e.targets.map(subjectKey));
  const seen = new Set<string>();
  for (const r of rows) {
    if (!want.has(r.targetKey) || seen.has(r.targetKey))
      return { kind: "index_mismatch", message: `a target row of ${at} names another target` };
    if (r.tenantKey !== e.tenantKey || r.recordedAt !== e.recordedAt)
      return { kind: "index_mismatch", message: `a target row of ${at} was edited` };
    seen.add(r.targetKey);
  }
  if (seen.size !== want.size)
    return { kind: "index_mismatch", message: `${at} is missing a target row` };
  const secrets = await ctx.db
    .query("auditSecrets")
    .withIndex("by_event", (q) => q.eq("event", e._id))
    .take(2);
  if (secrets.length > 1)
    return { kind: "secret_mismatch", message: `${at} has more than one secrets row` };
  const secret = secrets[0];
  const redacted = e.redacted ?? [];
  if (secret === undefined)
    return redacted.length === 0
      ? null
      : { kind: "secret_mismatch", message: `the secrets row of ${at} was deleted` };
  const mismatch = (what: string): Problem => ({
    kind: "secret_mismatch",
    message: `${what} (${at})`,
  });
  if (redacted.length === 0)
    return mismatch("a secrets row belongs to an event without redacted fields");
  const refs = await ctx.db
    .query("auditSecretRefs")
    .withIndex("by_secret", (q) => q.eq("secret", secret._id))
    .take(MAX_TARGETS + 2);
  if (secret.erased !== undefined) {
    if (secret.values.length > 0 || refs.length > 0)
      return mismatch("an erased secrets row holds values");
    const by = ctx.db.normalizeId("auditEvents", secret.erased.by);
    if (by === null) return mismatch("an erased secrets row names no erase event");
    // Retention may already have deleted the erase event (it can have a
    // shorter retention than the events it erased); its stub, found by the
    // commit timestamp the tombstone shares with it, must then exist.
    // Residual, documented: a row emptied by hand that names a retained
    // erase event (and its commit timestamp) passes.
    const erasure = await ctx.db.get("auditEvents", by);
    const ts = committedAt({ _id: secret._id, commitTs: secret.erased.commitTs });
    if (erasure === null) {
      const stub = await ctx.db
        .query("auditRetained")
        .withIndex("by_commitTs", (q) => q.eq("commitTs", ts))
        .first();
      return stub === null ? mismatch("an erased secrets row names a missing erase event") : null;
    }
    if (committedAt(erasure) !== ts)
      return mismatch("an erased secrets row names another erase event");
    const subjects = new Set([e.actorKey, ...e.targets.map(subjectKey)]);
    const names = erasure.targets.some((t) => subjects.has(subjectKey(t)));
    if (erasure.action !== ERASE_ACTION || !names)
      return mismatch("a secrets row was emptied without an erasure of its subject");
    return null;
  }
  if (secret.values.length !== redacted.length) return mismatch("the secrets row lacks a value");
  // `log` writes values in path order, as the commitments are.
  if (secret.values.some((x, i) => x.path !== redacted[i]?.path))
    return mismatch("the secrets row was reordered or relabelled");
  const commitments = new Map(redacted.map((c) => [c.path, c.commitment]));
  for (const s of secret.values) {
    const expected = commitments.get(s.path);
    commitments.delete(s.path);
    if (expected === undefined || !(await secretMatches(s.salt, s.value, expected)))
      return mismatch(`the stored value of ${s.path} does not match its commitment`);
  }
  const refKeys = new Set([e.actorKey, ...e.targets.map(subjectKey)]);
  const keys = new Set(refs.map((r) => r.subjectKey));
  if (refs.length !== refKeys.size || [...refKeys].some((k) => !keys.has(k)))
    return mismatch("the erasure index of the secrets row was edited");
  return null;
}
