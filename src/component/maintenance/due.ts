import type { QueryCtx } from "../_generated/server.js";
import { MINUTE, SECOND } from "../lib/time.js";
import { min } from "../lib/math.js";

/**
 * Each capability's `nextDue`: the earliest time its pending work is due, read
 * by index (one or two documents), or null when it has none. They read the
 * capabilities' tables without importing their modules.
 */

/** Audit events are sealed within about this long of being logged. */
export const SEAL_DELAY_MS = 10 * SECOND;
/**
 * Sweeps of state that only costs storage (idle rate-limit keys, dead codes,
 * retention) wait this long past the due time, so one tick takes everything
 * that fell due meanwhile instead of one tick per key.
 */
export const SWEEP_SLACK_MS = 1 * MINUTE;

/** When work that became due at `at` gets swept. */
export const sweepDue = (at: number) => at + SWEEP_SLACK_MS;

/**
 * Rate limits: the earliest `idleAt` of a transactional limit's document (the
 * state then equals "no document", so it is deleted). Documents of
 * asynchronous limits (`foldedThrough` set) are swept by whichever tick runs next,
 * for their folds or other work, but never schedule one of their own: after
 * a hot key's last fold the loop goes idle instead of waking once more.
 */
export async function rateLimitsDue(ctx: QueryCtx): Promise<number | null> {
  const first = await ctx.db
    .query("rateLimits")
    .withIndex("by_foldedThrough_idleAt", (q) => q.eq("foldedThrough", undefined))
    .first();
  return first === null ? null : sweepDue(first.idleAt);
}

/**
 * Audit: the oldest unsealed event's seal time, else the next retention. After
 * a seal that sealed events the sealer stays armed for one more
 * SEAL_DELAY_MS, so under steady traffic `log` finds a tick already pending
 * and never has to write the loop state; one empty tick ends a burst.
 */
export async function auditDue(ctx: QueryCtx, now: number): Promise<number | null> {
  const last = await ctx.db.query("auditSeals").withIndex("by_n").order("desc").first();
  // Above the newest seal's watermark only: rows the sealer set aside stay unsealed for good.
  const upTo = last?.upTo;
  const unsealed = await ctx.db
    .query("auditEvents")
    .withIndex("by_seq", (q) =>
      upTo === undefined ? q.eq("seq", undefined) : q.eq("seq", undefined).gt("commitTs", upTo),
    )
    .first();
  if (unsealed !== null) return unsealed._creationTime + SEAL_DELAY_MS;
  const due: number[] = [];
  if (last !== null && last.toSeq >= last.fromSeq && last.sealedAt > now - SEAL_DELAY_MS)
    due.push(last.sealedAt + SEAL_DELAY_MS);
  const retain = await ctx.db
    .query("auditEvents")
    .withIndex("by_retainUntil", (q) => q.gte("retainUntil", 0))
    .first();
  // `gte(0)` skips events without `retainUntil`, so the check only narrows the type.
  if (retain !== null && retain.retainUntil !== undefined) due.push(sweepDue(retain.retainUntil));
  return due.length === 0 ? null : min(...due);
}

/** Items counted per backlog by `maintenance.status` (bounded reads); more shows as "at least". */
export const STATUS_COUNT_LIMIT = 2000;

/** One backlog of a capability: `template` is a sentence with `{n}` for the count. */
export type Backlog = { template: string; count: number; atLeast: boolean };

async function count(rows: Promise<unknown[]>): Promise<{ count: number; atLeast: boolean }> {
  const n = (await rows).length;
  return { count: min(n, STATUS_COUNT_LIMIT), atLeast: n > STATUS_COUNT_LIMIT };
}

/** Rate limits' backlog: keys already idle, waiting for the sweep. */
export async function rateLimitsBacklog(ctx: QueryCtx, now: number): Promise<Backlog[]> {
  const idle = ctx.db
    .query("rateLimits")
    .withIndex("by_idleAt", (q) => q.lt("idleAt", now))
    .take(STATUS_COUNT_LIMIT + 1);
  return [{ template: "{n} idle keys to delete", ...(await count(idle)) }];
}

/** Audit's backlog: unsealed events, and sealed events past their retention. */
export async function auditBacklog(ctx: QueryCtx, now: number): Promise<Backlog[]> {
  const unsealed = ctx.db
    .query("auditEvents")
    .withIndex("by_seq", (q) => q.eq("seq", undefined))
    .take(STATUS_COUNT_LIMIT + 1);
  const retain = ctx.db
    .query("auditEvents")
    .withIndex("by_retainUntil", (q) => q.gte("retainUntil", 0).lte("retainUntil", now))
    .take(STATUS_COUNT_LIMIT + 1);
  return [
    { template: "sealing is {n} events behind", ...(await count(unsealed)) },
    { template: "{n} events past their retention", ...(await count(retain)) },
  ];
}

/** Codes' backlog: rows past their grace (`deleteAt`). */
export async function codesBacklog(ctx: QueryCtx, now: number): Promise<Backlog[]> {
  const dead = ctx.db
    .query("confirmationCodes")
    .withIndex("by_deleteAt", (q) => q.lte("deleteAt", now))
    .take(STATUS_COUNT_LIMIT + 1);
  return [{ template: "{n} expired codes to delete", ...(await count(dead)) }];
}

/** API keys' backlog: metadata of dead keys past its retention. */
export async function apiKeysBacklog(ctx: QueryCtx, now: number): Promise<Backlog[]> {
  const dead = ctx.db
    .query("apiKeys")
    .withIndex("by_purgeAt", (q) => q.gte("purgeAt", 0).lte("purgeAt", now))
    .take(STATUS_COUNT_LIMIT + 1);
  return [{ template: "{n} dead API keys to delete", ...(await count(dead)) }];
}
