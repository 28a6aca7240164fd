import { v, type Infer } from "convex/values";
import { mutation, query, type MutationCtx, type QueryCtx } from "./_generated/server.js";
import type { Doc } from "./_generated/dataModel.js";
import { ensureMaintenance, type MaintenanceResult } from "./maintenance/kick.js";
import { consumeRateLimit, peekThenConsume, type LimitRequest } from "./rateLimits.js";
import {
  MAC_VERSION,
  codeMac,
  generateCode,
  limitKey,
  newCodeId,
  normalizeCode,
  payloadDigestOfJson,
  payloadMac,
  type CodeFormat,
} from "./codes/crypto.js";
import {
  FAILURE_LIMIT_NAME,
  ISSUE_LIMIT_NAME,
  afterFailure,
  assertConsumeConfig,
  assertConsumeInput,
  assertIssueConfig,
  assertIssueInput,
  assertSubjectAction,
  blockedReason,
  carriedFailures,
  type CodeLimit,
} from "./codes/rules.js";
import { constantTimeEqual } from "./lib/hash.js";

/*
 * Confirmation codes. The host's client (`Confirmations`) passes the HMAC
 * secret as an argument of a direct `ctx.runMutation`, which Convex does not
 * persist (unlike scheduler arguments); this module uses it to compute MACs
 * and forgets it. The plaintext code exists only in `issue`'s return value.
 * No table, error or log line here ever holds the code or the secret.
 */

// ---- validators (declared once, reused in args and returns) ----

const codeFormat = v.object({
  alphabet: v.union(v.literal("digits"), v.literal("alphanumeric")),
  length: v.number(),
});
const codeLimit = v.object({ rate: v.number(), period: v.number() });
const target = { subject: v.string(), action: v.string() };
/** What binds a code: its target and payload, plus the HMAC key (passed per call, never stored). */
const boundArgs = { ...target, payload: v.optional(v.any()), secret: v.string() };

const issueResult = v.union(
  v.object({ ok: v.literal(true), codeId: v.string(), code: v.string(), expiresAt: v.number() }),
  v.object({
    ok: v.literal(false),
    reason: v.union(v.literal("rate_limited"), v.literal("locked")),
    retryAfter: v.number(),
  }),
);
export type IssueResult = Infer<typeof issueResult>;

const consumeResult = v.union(
  v.object({ ok: v.literal(true), codeId: v.string() }),
  v.object({
    ok: v.literal(false),
    reason: v.union(
      v.literal("invalid"),
      v.literal("expired"),
      v.literal("used"),
      v.literal("locked"),
      v.literal("mismatch"),
      v.literal("none"),
    ),
    /** Wrong tries left on this code, when one is pending. */
    attemptsLeft: v.optional(v.number()),
    /** For "locked": ms until a new code can be issued or tried. */
    retryAfter: v.optional(v.number()),
    /** The code the attempt was against, when there was one. */
    codeId: v.optional(v.string()),
  }),
);
export type ConsumeResult = Infer<typeof consumeResult>;

const statusResult = v.object({
  state: v.union(
    v.literal("none"),
    v.literal("pending"),
    v.literal("consumed"),
    v.literal("expired"),
    v.literal("revoked"),
    v.literal("locked"),
  ),
  pending: v.boolean(),
  codeId: v.optional(v.string()),
  expiresAt: v.optional(v.number()),
  attemptsLeft: v.optional(v.number()),
});
export type CodeStatus = Infer<typeof statusResult>;

const revokeResult = v.object({ revoked: v.boolean(), codeId: v.optional(v.string()) });
export type RevokeResult = Infer<typeof revokeResult>;

// ---- helpers ----

async function findCode(
  ctx: QueryCtx,
  subject: string,
  action: string,
): Promise<Doc<"confirmationCodes"> | null> {
  return ctx.db
    .query("confirmationCodes")
    .withIndex("by_subject_action", (q) => q.eq("subject", subject).eq("action", action))
    .unique();
}

/** The limiter request for a (subject, action) pair. Exact precision: the bound is strict, not approximate. */
async function limitRequest(
  name: string,
  subject: string,
  action: string,
  limit: CodeLimit,
): Promise<LimitRequest> {
  return {
    name,
    key: await limitKey(subject, action),
    config: { kind: "sliding window", rate: limit.rate, period: limit.period, precision: "exact" },
  };
}

// ---- public functions ----

/**
 * Issues a code for (subject, action, payload), superseding any pending one;
 * the failure count carries over. Returns the plaintext code: the only place
 * it ever exists outside the host.
 */
export const issue = mutation({
  args: {
    ...boundArgs,
    format: codeFormat,
    ttl: v.number(),
    maxAttempts: v.number(),
    issueLimit: codeLimit,
  },
  returns: issueResult,
  handler: async (ctx, args): Promise<IssueResult> => {
    const now = Date.now();
    const { subject, action, secret, format, ttl, maxAttempts, issueLimit } = args;
    const payloadJson = assertIssueInput(args);
    assertIssueConfig(args);

    const row = await findCode(ctx, subject, action);
    const carried = carriedFailures(row, maxAttempts, now);
    if ("locked" in carried) return { ok: false, reason: "locked", retryAfter: carried.retryAfter };
    const limited = await consumeRateLimit(
      ctx,
      await limitRequest(ISSUE_LIMIT_NAME, subject, action, issueLimit),
      now,
    );
    if (!limited.ok) return { ok: false, reason: "rate_limited", retryAfter: limited.retryAfter };

    const codeId = newCodeId();
    const code = generateCode(format as CodeFormat);
    const input = {
      secret,
      codeId,
      subject,
      action,
      payloadDigest: await payloadDigestOfJson(payloadJson),
    };
    const expiresAt = now + ttl;
    const fields = {
      codeId,
      version: MAC_VERSION,
      mac: await codeMac(input, code),
      payloadMac: await payloadMac(input),
      alphabet: format.alphabet,
      length: format.length,
      state: "pending" as const,
      failures: carried.failures,
      maxAttempts,
      issuedAt: now,
      expiresAt,
    };
    if (row !== null) {
      await ctx.db.patch("confirmationCodes", row._id, fields);
    } else {
      await ctx.db.insert("confirmationCodes", { subject, action, ...fields });
      await ensureMaintenance(ctx, now);
    }
    return { ok: true, codeId, code, expiresAt };
  },
});

/**
 * Tries a code. Never throws for a wrong, expired, used or locked code: it
 * returns the failure, so the counted attempt persists when the host returns
 * normally. Throws only for malformed input (nothing changes then).
 */
export const consume = mutation({
  args: {
    ...boundArgs,
    code: v.string(),
    failureLimit: codeLimit,
  },
  returns: consumeResult,
  handler: async (ctx, args): Promise<ConsumeResult> => {
    const now = Date.now();
    const { subject, action, code, secret, failureLimit } = args;
    const payloadJson = assertConsumeInput(args);
    assertConsumeConfig(args);

    const row = await findCode(ctx, subject, action);
    const blocked = blockedReason(row, now);
    if (row === null || blocked?.reason === "none") return { ok: false, reason: "none" };
    if (blocked?.reason === "locked")
      return { ok: false, ...blocked, attemptsLeft: 0, codeId: row.codeId };
    if (blocked !== null) return { ok: false, reason: blocked.reason, codeId: row.codeId };
    const attemptsLeft = row.maxAttempts - row.failures;
    // Check the cross-code failure budget BEFORE looking at the code, so a
    // guess beyond the budget is never evaluated; a failure below takes from it.
    const failureReq = await limitRequest(FAILURE_LIMIT_NAME, subject, action, failureLimit);
    const budget = await peekThenConsume(ctx, failureReq, now);
    if (!budget.result.ok) {
      return {
        ok: false,
        reason: "locked",
        retryAfter: budget.result.retryAfter,
        attemptsLeft,
        codeId: row.codeId,
      };
    }

    const input = {
      secret,
      codeId: row.codeId,
      subject,
      action,
      payloadDigest: await payloadDigestOfJson(payloadJson),
    };
    // Both MACs are always computed and compared in constant time.
    const payloadOk = constantTimeEqual(await payloadMac(input), row.payloadMac);
    const codeOk = constantTimeEqual(
      await codeMac(input, normalizeCode(row.alphabet, code)),
      row.mac,
    );
    if (payloadOk && codeOk) {
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
  },
});

/** The state of (subject, action)'s code. Never the code. Reads one document. */
export const status = query({
  args: target,
  returns: statusResult,
  handler: async (ctx, { subject, action }): Promise<CodeStatus> => {
    const now = Date.now();
    assertSubjectAction(subject, action);
    const row = await findCode(ctx, subject, action);
    if (row === null) return { state: "none", pending: false };
    const base = { codeId: row.codeId, expiresAt: row.expiresAt };
    if (row.state === "consumed" || row.state === "revoked")
      return { state: row.state, pending: false, ...base };
    if (now >= row.expiresAt) return { state: "expired", pending: false, ...base };
    const attemptsLeft = Math.max(0, row.maxAttempts - row.failures);
    if (row.state === "locked" || attemptsLeft === 0)
      return { state: "locked", pending: false, ...base, attemptsLeft: 0 };
    return { state: "pending", pending: true, ...base, attemptsLeft };
  },
});

/**
 * Revokes the pending (or locked) code of (subject, action). The row keeps its
 * failure count until expiry, so revoking never grants fresh guesses.
 */
export const revoke = mutation({
  args: target,
  returns: revokeResult,
  handler: async (ctx, { subject, action }): Promise<RevokeResult> => {
    const now = Date.now();
    assertSubjectAction(subject, action);
    const row = await findCode(ctx, subject, action);
    if (
      row === null ||
      now >= row.expiresAt ||
      row.state === "consumed" ||
      row.state === "revoked"
    ) {
      return { revoked: false };
    }
    await ctx.db.patch("confirmationCodes", row._id, { state: "revoked" });
    return { revoked: true, codeId: row.codeId };
  },
});

// ---- maintenance ----

/** Rows deleted per maintenance pass. */
export const CODE_SWEEP_BATCH = 200;

/**
 * Deletes rows whose code has expired (pending, consumed, revoked or locked
 * alike) in one bounded batch, through the `by_expiresAt` index.
 */
export async function maintainCodes(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const rows = await ctx.db
    .query("confirmationCodes")
    .withIndex("by_expiresAt", (q) => q.lte("expiresAt", now))
    .take(CODE_SWEEP_BATCH + 1);
  const batch = rows.slice(0, CODE_SWEEP_BATCH);
  for (const row of batch) await ctx.db.delete("confirmationCodes", row._id);
  return { processed: batch.length, more: rows.length > CODE_SWEEP_BATCH };
}
