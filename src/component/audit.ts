import { v } from "convex/values";
import { paginationResultValidator } from "convex/server";
import { mutation, query, type MutationCtx } from "./_generated/server.js";
import type { MaintenanceResult } from "./maintenance/kick.js";
import { ErrorCode } from "./lib/errors.js";
import { insertEvent } from "./audit/append.js";
import { headOf, lastSeal, sealBatch } from "./audit/chain.js";
import { buildProof } from "./audit/proof.js";
import { verifyPage } from "./audit/verify.js";
import { assertEraseInput, assertEventInput, assertRetentionMs } from "./audit/checks.js";
import { eraseBatch, retainBatch } from "./audit/retention.js";
import { getEvent, listPage } from "./audit/reads.js";
import { assertRedactPaths } from "./audit/redaction.js";
import {
  auditArgs,
  vAuditEvent,
  vHead,
  vMaintenanceResult,
  vProof,
  vVerifyResult,
} from "./audit/model.js";

/*
 * The audit log's public functions (`components.guard.audit.<fn>`). Each
 * checks its arguments here, the trust boundary, then calls the lifecycle
 * stage that does the work: append (audit/append.ts), chain (seal, proof,
 * verify: audit/chain.ts), retention and erasure (audit/retention.ts)
 * and reads (audit/reads.ts).
 */

/** Appends one event; returns its id (the first one's, for a repeated `eventId`). */
export const log = mutation({
  args: auditArgs.log,
  // The id crosses the component boundary, where the host sees a plain string
  // (what the official codegen writes for it), not an `Id` of our table.
  returns: v.string(),
  handler: async (ctx, args): Promise<string> => {
    const now = Date.now();
    assertEventInput(args.event);
    assertRedactPaths(args.redact ?? [], ErrorCode.INVALID_ARGUMENT);
    assertRetentionMs(args.retentionMs);
    return await insertEvent(ctx, now, args.event, args.redact ?? [], args.retentionMs);
  },
});

/** Called by the maintenance loop every tick: one seal batch, one retention batch. */
export async function maintainAudit(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const sealed = await sealBatch(ctx, now);
  const retained = await retainBatch(ctx, now);
  return { processed: sealed.processed + retained.processed, more: sealed.more || retained.more };
}

/** Seals one bounded batch now (tests, demos, hosts driving their own cadence). */
export const seal = mutation({
  args: auditArgs.seal,
  returns: vMaintenanceResult,
  handler: async (ctx) => sealBatch(ctx, Date.now()),
});

/**
 * Right to erasure: deletes the values and salts of redacted fields of events
 * whose actor or a target is `subject`, one bounded batch per call. The
 * commitments stay in the events, so every hash still verifies. Each call is
 * itself recorded as an event. Call again while `done` is false.
 */
export const erase = mutation({
  args: auditArgs.erase,
  returns: v.object({ erased: v.number(), done: v.boolean() }),
  handler: async (ctx, args) => {
    const now = Date.now();
    assertEraseInput(args);
    assertRetentionMs(args.retentionMs);
    return eraseBatch(ctx, now, args);
  },
});

/**
 * One page of events matching the filter, newest first by default, served by
 * exactly one index (see `planList` for the supported combinations).
 */
export const list = query({
  args: auditArgs.list,
  returns: paginationResultValidator(vAuditEvent),
  handler: async (ctx, { paginationOpts, ...filter }) => listPage(ctx, filter, paginationOpts),
});

/** One event; with `reveal`, redacted values that were not erased are put back. */
export const get = query({
  args: auditArgs.get,
  returns: v.union(vAuditEvent, v.null()),
  handler: async (ctx, args) => getEvent(ctx, args.id, args.reveal === true),
});

/** The latest seal: anchor its hash outside Convex to detect truncation or rewrites later. */
export const head = query({
  args: auditArgs.head,
  returns: vHead,
  handler: async (ctx) => headOf(await lastSeal(ctx)),
});

/**
 * Inclusion proof of a sealed event: its audit path in its seal's batch and
 * the skip path of seals from there to the head (or to seal `headN`),
 * O(log n) seals. Null while the event is not sealed yet.
 */
export const proof = query({
  args: auditArgs.proof,
  returns: v.union(v.null(), vProof),
  handler: async (ctx, args) => buildProof(ctx, args.id, args.headN),
});

/**
 * Recomputes leaves, Merkle roots, the seal chain and the rows serving each
 * event from `cursor` on, for at most VERIFY_PAGE_EVENTS events, and reports
 * the first break; the last page also reports the unsealed backlog.
 */
export const verify = query({
  args: auditArgs.verify,
  returns: vVerifyResult,
  handler: async (ctx, args) => verifyPage(ctx, Date.now(), args),
});
