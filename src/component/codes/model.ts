import { v, type Infer } from "convex/values";

/**
 * Confirmation codes' validators, declared once: the public functions' args
 * and returns, and the types the client and the logic share (`Infer`'d).
 */

export const vCodeAlphabet = v.union(v.literal("digits"), v.literal("alphanumeric"));
export type CodeAlphabet = Infer<typeof vCodeAlphabet>;

export const vCodeFormat = v.object({ alphabet: vCodeAlphabet, length: v.number() });
export type CodeFormat = Infer<typeof vCodeFormat>;

/** An exact sliding window per (subject, action): `rate` per `period` ms. */
export const vCodeLimit = v.object({ rate: v.number(), period: v.number() });
export type CodeLimit = Infer<typeof vCodeLimit>;

/** What a code is for: one subject doing one action. */
export const vTarget = { subject: v.string(), action: v.string() };
export const vCodeTarget = v.object(vTarget);
export type CodeTarget = Infer<typeof vCodeTarget>;

export const vCodeState = v.union(
  v.literal("pending"),
  v.literal("consumed"),
  v.literal("revoked"),
  v.literal("locked"),
);
export type CodeState = Infer<typeof vCodeState>;

/**
 * The two MACs the host computes for one code under one secret (see
 * crypto.ts): never the code or the secret themselves.
 */
export const vCodeMacs = v.object({ codeMac: v.string(), payloadMac: v.string() });
export type CodeMacs = Infer<typeof vCodeMacs>;

/** `issue`'s result. The plaintext code is added by the host's client, which generated it. */
export const vIssueResult = v.union(
  v.object({ ok: v.literal(true), codeId: v.string(), expiresAt: v.number() }),
  v.object({
    ok: v.literal(false),
    reason: v.union(v.literal("rate_limited"), v.literal("locked")),
    retryAfter: v.number(),
  }),
);
export type IssueResult = Infer<typeof vIssueResult>;

export const vConsumeFailure = v.union(
  v.literal("invalid"),
  v.literal("expired"),
  v.literal("used"),
  v.literal("locked"),
  v.literal("mismatch"),
  v.literal("none"),
);

export const vConsumeResult = v.union(
  v.object({ ok: v.literal(true), codeId: v.string() }),
  v.object({
    ok: v.literal(false),
    reason: vConsumeFailure,
    /** Wrong tries left on this code, when one is pending. */
    attemptsLeft: v.optional(v.number()),
    /** For "locked": ms until a new code can be issued or tried. */
    retryAfter: v.optional(v.number()),
    /** The code the attempt was against, when there was one. */
    codeId: v.optional(v.string()),
  }),
);
export type ConsumeResult = Infer<typeof vConsumeResult>;

export const vCodeStatus = v.object({
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
export type CodeStatus = Infer<typeof vCodeStatus>;

export const vRevokeResult = v.object({ revoked: v.boolean(), codeId: v.optional(v.string()) });
export type RevokeResult = Infer<typeof vRevokeResult>;

/**
 * The argument validator of each public code function (../codes.ts), by name:
 * the functions' own `args`, and what the host's client checks a call against
 * before making it, without importing the functions themselves into the
 * host's bundle.
 */
export const codeArgs = {
  issue: {
    ...vTarget,
    ...vCodeMacs.fields,
    ttl: v.number(),
    grace: v.number(),
    maxAttempts: v.number(),
    issueLimit: vCodeLimit,
  },
  consume: { ...vTarget, candidates: v.array(vCodeMacs), failureLimit: vCodeLimit },
  status: vTarget,
  revoke: vTarget,
};
