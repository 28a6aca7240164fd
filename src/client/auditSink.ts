import { SYSTEM_ACTOR, type AuditEventInput } from "../component/audit/model.js";
import type { RunMutationCtx } from "./ctx.js";

/*
 * Where RateLimiter, Confirmations and ApiKeys record what they do. One type
 * for all three; an `AuditLog`, with or without typed `actions`, is one.
 */

/**
 * An event convex-guard's own clients record: an audit event whose action is
 * in the `guard.` namespace, which a typed `AuditLog` always accepts. It never
 * holds a code, a key, a secret or a digest.
 */
export type GuardAuditEvent = Omit<AuditEventInput, "action"> & { action: `guard.${string}` };

/**
 * What a client's `audit` option must offer: an `AuditLog` fits. A property,
 * not a method, so the compiler checks that `log` accepts every such event
 * (method parameters are compared both ways, which would let a narrower log in).
 */
export type AuditSink = {
  log: (ctx: RunMutationCtx, event: GuardAuditEvent) => Promise<unknown>;
};

/** Who an event convex-guard's clients record is by, when the caller names no actor. */
export const GUARD_ACTOR: { readonly type: "system"; readonly id: "convex-guard" } = SYSTEM_ACTOR;
