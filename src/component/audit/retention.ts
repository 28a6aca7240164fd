import type { Doc, Id } from "../_generated/dataModel.js";
import type { MutationCtx } from "../_generated/server.js";
import type { MaintenanceResult } from "../maintenance/kick.js";
import { insertEvent } from "./append.js";
import { committedAt } from "./integrity.js";
import { payloadHash, payloadOf } from "./leaf.js";
import {
  ERASE_ACTION,
  ERASE_BATCH,
  RETAIN_BATCH,
  RETENTION_ACTION,
  SYSTEM_ACTOR,
  subjectKey,
  type Actor,
  type Subject,
} from "./model.js";
import { max, min } from "../lib/math.js";

/**
 * An event's end of life: retention deletes its payload (a stub keeps what
 * rebuilds its leaf), erasure deletes the values and salts of its redacted
 * fields (the commitments stay). Both keep every hash verifiable and record
 * themselves as events.
 */

/** A sealed event past its retention horizon: what retention may delete. */
type DueEvent = Doc<"auditEvents"> & { seq: number; retainUntil: number };

function isDue(e: Doc<"auditEvents">): e is DueEvent {
  return e.seq !== undefined && e.retainUntil !== undefined;
}

/** Deletes the payload of one event: index rows, secrets, the event; keeps a stub that rebuilds its leaf. */
async function retainEvent(ctx: MutationCtx, e: DueEvent): Promise<void> {
  await ctx.db.insert("auditRetained", {
    seq: e.seq,
    recordedAt: e.recordedAt,
    retainUntil: e.retainUntil,
    payloadHash: await payloadHash(payloadOf(e), e),
    commitTs: committedAt(e),
  });
  for (const t of await ctx.db
    .query("auditTargets")
    .withIndex("by_event", (q) => q.eq("event", e._id))
    .take(64)) {
    await ctx.db.delete("auditTargets", t._id);
  }
  const secret = await ctx.db
    .query("auditSecrets")
    .withIndex("by_event", (q) => q.eq("event", e._id))
    .first();
  if (secret !== null) await deleteSecret(ctx, secret._id);
  await ctx.db.delete("auditEvents", e._id);
}

async function deleteRefs(ctx: MutationCtx, secret: Id<"auditSecrets">): Promise<void> {
  for (const r of await ctx.db
    .query("auditSecretRefs")
    .withIndex("by_secret", (q) => q.eq("secret", secret))
    .take(64)) {
    await ctx.db.delete("auditSecretRefs", r._id);
  }
}

async function deleteSecret(ctx: MutationCtx, secret: Id<"auditSecrets">): Promise<void> {
  await deleteRefs(ctx, secret);
  await ctx.db.delete("auditSecrets", secret);
}

/** Applies retention to one bounded batch of sealed events past their horizon, and records it. */
export async function retainBatch(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const due = await ctx.db
    .query("auditEvents")
    .withIndex("by_retainUntil", (q) => q.gte("retainUntil", 0).lte("retainUntil", now))
    .take(RETAIN_BATCH + 1);
  // Unsealed events wait for their seal: the stub needs a seq.
  const batch = due.slice(0, RETAIN_BATCH).filter(isDue);
  for (const e of batch) await retainEvent(ctx, e);
  const more = due.length > RETAIN_BATCH || batch.length < min(due.length, RETAIN_BATCH);
  // Record the run, unless it only removed earlier retention records (that would never end).
  const real = batch.filter((e) => e.action !== RETENTION_ACTION);
  if (real.length > 0) {
    const seqs = batch.map((e) => e.seq);
    const horizon = max(...batch.map((e) => e.retainUntil - e.recordedAt));
    await insertEvent(
      ctx,
      now,
      {
        action: RETENTION_ACTION,
        actor: { ...SYSTEM_ACTOR },
        outcome: "success",
        metadata: { events: batch.length, fromSeq: min(...seqs), toSeq: max(...seqs) },
      },
      [],
      horizon,
    );
  }
  return { processed: batch.length, more };
}

/**
 * Right to erasure, one bounded batch: deletes the secrets rows that concern
 * `subject` and records the call as an event.
 */
export async function eraseBatch(
  ctx: MutationCtx,
  now: number,
  args: { subject: Subject; actor?: Actor; retentionMs?: number },
): Promise<{ erased: number; done: boolean }> {
  const refs = await ctx.db
    .query("auditSecretRefs")
    .withIndex("by_subject", (q) => q.eq("subjectKey", subjectKey(args.subject)))
    .take(ERASE_BATCH + 1);
  const emptied: Id<"auditSecrets">[] = [];
  for (const ref of refs.slice(0, ERASE_BATCH)) {
    const secret = await ctx.db.get("auditSecrets", ref.secret);
    if (secret !== null && secret.erased === undefined) {
      await deleteRefs(ctx, secret._id);
      emptied.push(secret._id);
    } else {
      await ctx.db.delete("auditSecretRefs", ref._id);
    }
  }
  const erased = emptied.length;
  const done = refs.length <= ERASE_BATCH;
  const eraseEvent = await insertEvent(
    ctx,
    now,
    {
      action: ERASE_ACTION,
      actor: args.actor ?? { ...SYSTEM_ACTOR },
      targets: [{ type: args.subject.type, id: args.subject.id }],
      outcome: "success",
      metadata: { erased, done },
    },
    [],
    args.retentionMs,
  );
  // Values and salts go; the emptied row stays as a tombstone naming the erasure,
  // so a secrets row deleted by hand is told apart from an erasure.
  for (const secret of emptied) {
    await ctx.db.patch("auditSecrets", secret, {
      values: [],
      erased: { by: eraseEvent, commitTs: ctx.db.vars.commitTs },
    });
  }
  return { erased, done };
}
