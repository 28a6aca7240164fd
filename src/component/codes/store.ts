import type { Doc } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { sweepDue } from "../maintenance/due.js";
import { ensureMaintenance, type MaintenanceResult } from "../maintenance/kick.js";
import { consumeRateLimit, peekThenConsume, type LimitRequest } from "../rateLimits/store.js";
import { constantTimeEqual } from "../lib/hash.js";
import { MAC_VERSION, codeVerifier, limitKey, newCodeId, payloadVerifier } from "./crypto.js";
import type {
  CodeLimit,
  CodeMacs,
  CodeStatus,
  CodeTarget,
  ConsumeResult,
  IssueResult,
  RevokeResult,
} from "./model.js";
import {
  FAILURE_LIMIT_NAME,
  ISSUE_LIMIT_NAME,
  afterFailure,
  blockedReason,
  carriedFailures,
} from "./rules.js";
import { max } from "../lib/math.js";

/*
 * The ctx side of confirmation codes: one row per (subject, action) read
 * through `by_subject_action`, and the two exact sliding windows (issue and
 * failure) kept by the rate-limit module. The rules it applies are pure
 * (rules.ts). It receives MACs from the host and stores only salted
 * verifiers of them (crypto.ts); it never sees a secret or a code.
 */

type CodeRow = Doc<"confirmationCodes">;

async function findCode(ctx: QueryCtx, { subject, action }: CodeTarget): Promise<CodeRow | null> {
  return ctx.db
    .query("confirmationCodes")
    .withIndex("by_subject_action", (q) => q.eq("subject", subject).eq("action", action))
    .unique();
}

/** The limiter request for a (subject, action) pair. Exact precision: the bound is strict. */
async function limitRequest(
  name: string,
  { subject, action }: CodeTarget,
  limit: CodeLimit,
): Promise<LimitRequest> {
  return {
    name,
    key: await limitKey(subject, action),
    config: { kind: "sliding window", rate: limit.rate, period: limit.period, precision: "exact" },
  };
}

export type IssueInput = CodeTarget &
  CodeMacs & { ttl: number; grace: number; maxAttempts: number; issueLimit: CodeLimit };

/** Stores a code the host generated, as verifiers of its MACs (the code is never seen here). */
export async function issueCode(
  ctx: MutationCtx,
  input: IssueInput,
  now: number,
): Promise<IssueResult> {
  const { subject, action, ttl, maxAttempts, issueLimit } = input;
  const row = await findCode(ctx, input);
  const carried = carriedFailures(row, maxAttempts, now);
  if ("locked" in carried) return { ok: false, reason: "locked", retryAfter: carried.retryAfter };
  const limited = await consumeRateLimit(
    ctx,
    await limitRequest(ISSUE_LIMIT_NAME, input, issueLimit),
    now,
  );
  if (!limited.ok) return { ok: false, reason: "rate_limited", retryAfter: limited.retryAfter };

  const codeId = newCodeId();
  const expiresAt = now + ttl;
  const deleteAt = expiresAt + input.grace;
  const fields = {
    codeId,
    version: MAC_VERSION,
    codeVerifier: await codeVerifier(codeId, input.codeMac),
    payloadVerifier: await payloadVerifier(codeId, input.payloadMac),
    state: "pending" as const,
    failures: carried.failures,
    maxAttempts,
    issuedAt: now,
    expiresAt,
    deleteAt,
  };
  if (row !== null) {
    await ctx.db.patch("confirmationCodes", row._id, fields);
  } else {
    await ctx.db.insert("confirmationCodes", { subject, action, ...fields });
  }
  // A later deleteAt than the row had needs no wake-up: the sweep reschedules itself.
  if (row === null || deleteAt < row.deleteAt)
    await ensureMaintenance(ctx, now, sweepDue(deleteAt));
  return { ok: true, codeId, expiresAt };
}

/**
 * Compares every candidate (one MAC pair per secret the host accepts) with
 * the row, always all of them, in constant time. A pair whose payload tag
 * matches was made under the secret the code was issued with; the code is
 * right when that same pair's code MAC matches too.
 */
async function matchCandidates(
  row: CodeRow,
  candidates: CodeMacs[],
): Promise<{ payloadOk: boolean; codeOk: boolean }> {
  let payloadOk = false;
  let codeOk = false;
  for (const c of candidates) {
    const p = constantTimeEqual(
      await payloadVerifier(row.codeId, c.payloadMac),
      row.payloadVerifier,
    );
    const k = constantTimeEqual(await codeVerifier(row.codeId, c.codeMac), row.codeVerifier);
    payloadOk ||= p;
    codeOk ||= p && k;
  }
  return { payloadOk, codeOk };
}

export type ConsumeInput = CodeTarget & { candidates: CodeMacs[]; failureLimit: CodeLimit };

export async function consumeCode(
  ctx: MutationCtx,
  input: ConsumeInput,
  now: number,
): Promise<ConsumeResult> {
  const row = await findCode(ctx, input);
  const blocked = blockedReason(row, now);
  if (row === null || blocked?.reason === "none") return { ok: false, reason: "none" };
  if (blocked?.reason === "locked")
    return { ok: false, ...blocked, attemptsLeft: 0, codeId: row.codeId };
  if (blocked !== null) return { ok: false, reason: blocked.reason, codeId: row.codeId };
  const attemptsLeft = row.maxAttempts - row.failures;
  // Check the cross-code failure budget BEFORE looking at the code, so a
  // guess beyond the budget is never evaluated; a failure below takes from it.
  const failureReq = await limitRequest(FAILURE_LIMIT_NAME, input, input.failureLimit);
  const budget = await peekThenConsume(ctx, failureReq, now);
  if (!budget.result.ok) {
    const { retryAfter } = budget.result;
    return { ok: false, reason: "locked", retryAfter, attemptsLeft, codeId: row.codeId };
  }

  const { payloadOk, codeOk } = await matchCandidates(row, input.candidates);
  if (codeOk) {
    await ctx.db.patch("confirmationCodes", row._id, { state: "consumed" });
    return { ok: true, codeId: row.codeId };
  }
  const next = afterFailure(row);
  await ctx.db.patch("confirmationCodes", row._id, next);
  await budget.consume();
  return {
    ok: false,
    reason: payloadOk ? "invalid" : "mismatch",
    attemptsLeft: row.maxAttempts - next.failures,
    codeId: row.codeId,
  };
}

export async function codeStatus(
  ctx: QueryCtx,
  target: CodeTarget,
  now: number,
): Promise<CodeStatus> {
  const row = await findCode(ctx, target);
  if (row === null) return { state: "none", pending: false };
  const base = { codeId: row.codeId, expiresAt: row.expiresAt };
  if (row.state === "consumed" || row.state === "revoked")
    return { state: row.state, pending: false, ...base };
  if (now >= row.expiresAt) return { state: "expired", pending: false, ...base };
  const attemptsLeft = max(0, row.maxAttempts - row.failures);
  if (row.state === "locked" || attemptsLeft === 0)
    return { state: "locked", pending: false, ...base, attemptsLeft: 0 };
  return { state: "pending", pending: true, ...base, attemptsLeft };
}

/** Revokes a live pending or locked code; the row keeps its failure count until expiry. */
export async function revokeCode(
  ctx: MutationCtx,
  target: CodeTarget,
  now: number,
): Promise<RevokeResult> {
  const row = await findCode(ctx, target);
  if (row === null || now >= row.expiresAt || row.state === "consumed" || row.state === "revoked")
    return { revoked: false };
  await ctx.db.patch("confirmationCodes", row._id, { state: "revoked" });
  return { revoked: true, codeId: row.codeId };
}

/** Rows deleted per maintenance pass. */
export const CODE_SWEEP_BATCH = 200;

/**
 * Deletes rows past `deleteAt` (pending, consumed, revoked or locked alike)
 * in one bounded batch, through the `by_deleteAt` index. Until then an
 * expired code answers "expired" and a consumed one "used".
 */
export async function sweepCodes(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const rows = await ctx.db
    .query("confirmationCodes")
    .withIndex("by_deleteAt", (q) => q.lte("deleteAt", now))
    .take(CODE_SWEEP_BATCH + 1);
  const batch = rows.slice(0, CODE_SWEEP_BATCH);
  for (const row of batch) await ctx.db.delete("confirmationCodes", row._id);
  return { processed: batch.length, more: rows.length > CODE_SWEEP_BATCH };
}

/** The earliest `deleteAt`: when the sweep next has work, or null. Reads one index entry. */
export async function nextCodeDue(ctx: QueryCtx): Promise<number | null> {
  const first = await ctx.db.query("confirmationCodes").withIndex("by_deleteAt").first();
  return first === null ? null : first.deleteAt;
}
