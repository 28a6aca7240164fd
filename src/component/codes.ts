import { mutation, query } from "./_generated/server.js";
import {
  codeArgs,
  vCodeStatus,
  vConsumeResult,
  vIssueResult,
  vRevokeResult,
} from "./codes/model.js";
import { assertConsumeArgs, assertIssueArgs, assertSubjectAction } from "./codes/rules.js";
import { codeStatus, consumeCode, issueCode, revokeCode } from "./codes/store.js";

/*
 * Confirmation codes' public functions: each validates its whole input (the
 * component is the trust boundary), then runs the logic in codes/store.ts.
 * No argument carries a secret or a code: the host's client (`Confirmations`)
 * generates the code and passes only HMACs of it (codes/crypto.ts), so an
 * argument-validation error, which a deployment logs with the whole
 * argument object, can never expose either.
 */

export type { CodeStatus, ConsumeResult, IssueResult, RevokeResult } from "./codes/model.js";
export { CODE_SWEEP_BATCH, sweepCodes as maintainCodes } from "./codes/store.js";

/**
 * Stores a code the host generated for (subject, action, payload),
 * superseding any pending one; the failure count carries over. Refusals
 * (`rate_limited`, `locked`) are returned.
 */
export const issue = mutation({
  args: codeArgs.issue,
  returns: vIssueResult,
  handler: async (ctx, args) => {
    assertIssueArgs(args);
    return issueCode(ctx, args, Date.now());
  },
});

/**
 * Tries a code, given as one MAC pair per secret the host accepts. Never
 * throws for a wrong, expired, used or locked code: it returns the failure,
 * so the counted attempt persists when the host returns normally. Throws
 * only for malformed input (nothing changes then).
 */
export const consume = mutation({
  args: codeArgs.consume,
  returns: vConsumeResult,
  handler: async (ctx, args) => {
    assertConsumeArgs(args);
    return consumeCode(ctx, args, Date.now());
  },
});
/** The state of (subject, action)'s code. Never the code. Reads one document. */
export const status = query({
  args: codeArgs.status,
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
  args: codeArgs.revoke,
  returns: vRevokeResult,
  handler: async (ctx, args) => {
    assertSubjectAction(args.subject, args.action);
    return revokeCode(ctx, args, Date.now());
  },
});
