import { v } from "convex/values";
import { mutation, query } from "./_generated/server.js";
import {
  vCodeFormat,
  vCodeLimit,
  vCodeStatus,
  vConsumeResult,
  vIssueResult,
  vRevokeResult,
  vTarget,
} from "./codes/model.js";
import {
  assertConsumeConfig,
  assertConsumeInput,
  assertIssueConfig,
  assertIssueInput,
  assertSubjectAction,
} from "./codes/rules.js";
import { codeStatus, consumeCode, issueCode, revokeCode } from "./codes/store.js";

/*
 * Confirmation codes' public functions: each validates its whole input (the
 * component is the trust boundary), then runs the logic in codes/store.ts.
 * The host's client (`Confirmations`) passes the HMAC secret as an argument
 * of a direct `ctx.runMutation`, which Convex does not persist (unlike
 * scheduler arguments). The plaintext code exists only in `issue`'s result.
 */

export type { CodeStatus, ConsumeResult, IssueResult, RevokeResult } from "./codes/model.js";
export { CODE_SWEEP_BATCH, sweepCodes as maintainCodes } from "./codes/store.js";

/** What binds a code: its target and payload, plus the HMAC key (passed per call, never stored). */
const boundArgs = { ...vTarget, payload: v.optional(v.any()), secret: v.string() };

/**
 * Issues a code for (subject, action, payload), superseding any pending one;
 * the failure count carries over. Returns the plaintext code: the only place
 * it ever exists outside the host.
 */
export const issue = mutation({
  args: {
    ...boundArgs,
    format: vCodeFormat,
    ttl: v.number(),
    maxAttempts: v.number(),
    issueLimit: vCodeLimit,
  },
  returns: vIssueResult,
  handler: async (ctx, args) => {
    const payloadJson = assertIssueInput(args);
    assertIssueConfig(args);
    return issueCode(ctx, { ...args, payloadJson }, Date.now());
  },
});

/**
 * Tries a code. Never throws for a wrong, expired, used or locked code: it
 * returns the failure, so the counted attempt persists when the host returns
 * normally. Throws only for malformed input (nothing changes then).
 */
export const consume = mutation({
  args: { ...boundArgs, code: v.string(), failureLimit: vCodeLimit },
  returns: vConsumeResult,
  handler: async (ctx, args) => {
    const payloadJson = assertConsumeInput(args);
    assertConsumeConfig(args);
    return consumeCode(ctx, { ...args, payloadJson }, Date.now());
  },
});

/** The state of (subject, action)'s code. Never the code. Reads one document. */
export const status = query({
  args: vTarget,
  returns: vCodeStatus,
  handler: async (ctx, args) => {
    assertSubjectAction(args.subject, args.action);
    return codeStatus(ctx, args, Date.now());
  },
});

/**
 * Revokes the pending (or locked) code of (subject, action). The row keeps its
 * failure count until expiry, so revoking never grants fresh guesses.
 */
export const revoke = mutation({
  args: vTarget,
  returns: vRevokeResult,
  handler: async (ctx, args) => {
    assertSubjectAction(args.subject, args.action);
    return revokeCode(ctx, args, Date.now());
  },
});
