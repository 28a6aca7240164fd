import { v, type Infer, type Validator, type Value } from "convex/values";
import { ErrorCode, guardError } from "../lib/errors.js";
import { canonicalJson, sha256Hex } from "../lib/hash.js";
import { leafHash } from "./merkle.js";
import {
  assertFinite,
  assertIntInRange,
  assertKey,
  assertString,
  byteLength,
} from "../lib/validate.js";

/**
 * The audit log's pure model: event validators, input checks, the canonical
 * leaf encoding, redaction paths and the plan that maps a `list` filter onto
 * an index. Used by the component (the trust boundary) and by the client
 * (early, clear errors).
 */

// ---- size caps ----
export const MAX_STRING_BYTES = 1024;
export const MAX_METADATA_BYTES = 8 * 1024;
export const MAX_TARGETS = 20;
export const MAX_REDACT_PATHS = 32;
export const MAX_PAGE_SIZE = 500;
/** Retention longer than this (100 years) is almost surely a unit mistake. */
export const MAX_RETENTION_DAYS = 36_500;

// ---- validators (declared once; reused in args and returns) ----
export const outcomeV = v.union(v.literal("success"), v.literal("failure"), v.literal("denied"));
export const severityV = v.union(v.literal("info"), v.literal("warning"), v.literal("critical"));
export const actorV = v.object({ type: v.string(), id: v.string(), name: v.optional(v.string()) });
export const targetV = v.object({ type: v.string(), id: v.string(), name: v.optional(v.string()) });
export const subjectV = v.object({ type: v.string(), id: v.string() });
export const contextV = v.object({
  ip: v.optional(v.string()),
  userAgent: v.optional(v.string()),
  requestId: v.optional(v.string()),
  sessionId: v.optional(v.string()),
});
export const commitmentV = v.object({ path: v.string(), commitment: v.string() });

/** Fields an event has both as `log` takes it and as it is stored. */
const eventBodyFields = {
  tenant: v.optional(v.string()),
  outcome: outcomeV,
  reason: v.optional(v.string()),
  severity: v.optional(severityV),
  context: v.optional(contextV),
  metadata: v.optional(v.any()),
};

/** What a host passes to `log`. */
export const eventInputFields = {
  action: v.string(),
  actor: actorV,
  targets: v.optional(v.array(targetV)),
  ...eventBodyFields,
  occurredAt: v.optional(v.number()),
  eventId: v.optional(v.string()),
};
export const eventInputV = v.object(eventInputFields);
export type AuditEventInput = Infer<typeof eventInputV>;
export type Outcome = Infer<typeof outcomeV>;
export type Actor = Infer<typeof actorV>;
export type Target = Infer<typeof targetV>;
export type Subject = Infer<typeof subjectV>;
export type Commitment = Infer<typeof commitmentV>;

/** The fields of a stored event that `get` and `list` return (the schema adds its index keys). */
export const storedEventFields = {
  action: v.string(),
  actor: actorV,
  targets: v.array(targetV),
  ...eventBodyFields,
  occurredAt: v.number(),
  recordedAt: v.number(),
  eventId: v.optional(v.string()),
  /** Paths stored as salted commitments (their values are not in the event). */
  redacted: v.optional(v.array(commitmentV)),
  retainUntil: v.optional(v.number()),
  /** Position in the sealed log; absent until the event is sealed. */
  seq: v.optional(v.number()),
  leafHash: v.string(),
};

/** An event as `get` and `list` return it. */
export const auditEventV = v.object({
  id: v.string(),
  ...storedEventFields,
  /** With `reveal`: redacted paths whose value was erased. */
  erased: v.optional(v.array(v.string())),
});
export type AuditEvent = Infer<typeof auditEventV>;

/** A seal: seal n covers events fromSeq..toSeq (none when toSeq < fromSeq); `hash` chains it to seal n-1. */
export const sealFields = {
  n: v.number(),
  fromSeq: v.number(),
  toSeq: v.number(),
  root: v.string(),
  prevHash: v.string(),
  hash: v.string(),
  sealedAt: v.number(),
};

/** Filters of `list` (and `export`). */
export const listFilterFields = {
  actor: v.optional(subjectV),
  target: v.optional(subjectV),
  action: v.optional(v.string()),
  tenant: v.optional(v.string()),
  outcome: v.optional(outcomeV),
  from: v.optional(v.number()),
  to: v.optional(v.number()),
  order: v.optional(v.union(v.literal("asc"), v.literal("desc"))),
};
export const listFilterV = v.object(listFilterFields);
export type AuditListFilter = Infer<typeof listFilterV>;

// ---- convex-guard's own events ----

/** Actions under this prefix are convex-guard's own; a typed `AuditLog` always accepts them. */
export const SYSTEM_ACTION_PREFIX = "guard.";
/** Actor of retention runs, and of erasures called without one. */
export const SYSTEM_ACTOR = { type: "system", id: "convex-guard" } as const;
export const RETENTION_ACTION = "guard.audit.retention";
export const ERASE_ACTION = "guard.audit.erase";

// ---- keys used by indexes ----

/** Index key of an actor or target: unambiguous for any (type, id). */
export function subjectKey(s: { type: string; id: string }): string {
  return canonicalJson([s.type, s.id]);
}

/** Index key of a tenant ("" means no tenant; tenants themselves are never empty). */
export function tenantKey(tenant: string | undefined): string {
  return tenant ?? "";
}

// ---- input checks ----

function assertOptString(value: unknown, what: string): void {
  if (value !== undefined) assertString(value, what, MAX_STRING_BYTES);
}

function assertSubject(s: { type: unknown; id: unknown; name?: unknown }, what: string): void {
  assertKey(s.type, `${what}.type`);
  assertKey(s.id, `${what}.id`);
  assertOptString(s.name, `${what}.name`);
}

/** Checks an event against every cap; throws INVALID_ARGUMENT / TOO_LARGE. */
export function validateEventInput(e: AuditEventInput): void {
  assertKey(e.action, "action");
  assertSubject(e.actor, "actor");
  const targets = e.targets ?? [];
  if (targets.length > MAX_TARGETS) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `an event has at most ${MAX_TARGETS} targets, got ${targets.length}`,
      {
        limit: MAX_TARGETS,
      },
    );
  }
  targets.forEach((t, i) => assertSubject(t, `targets[${i}]`));
  if (e.tenant !== undefined) assertKey(e.tenant, "tenant");
  if (e.eventId !== undefined) assertKey(e.eventId, "eventId");
  assertOptString(e.reason, "reason");
  if (e.context !== undefined) {
    for (const [k, val] of Object.entries(e.context)) assertOptString(val, `context.${k}`);
  }
  if (e.occurredAt !== undefined) {
    assertFinite(e.occurredAt, "occurredAt");
    if (e.occurredAt < 0)
      throw guardError(ErrorCode.INVALID_ARGUMENT, "occurredAt must not be negative");
  }
  if (e.metadata !== undefined) {
    let bytes: number;
    try {
      bytes = byteLength(canonicalJson(e.metadata as Value));
    } catch {
      throw guardError(
        ErrorCode.INVALID_ARGUMENT,
        "metadata must be a JSON-like Convex value with finite numbers",
      );
    }
    if (bytes > MAX_METADATA_BYTES) {
      throw guardError(
        ErrorCode.TOO_LARGE,
        `metadata is ${bytes} bytes serialized; the limit is ${MAX_METADATA_BYTES}`,
        {
          bytes,
          limit: MAX_METADATA_BYTES,
        },
      );
    }
    assertStringsWithin(e.metadata, "metadata");
  }
}

function assertStringsWithin(value: unknown, where: string): void {
  if (typeof value === "string") {
    const bytes = byteLength(value);
    if (bytes > MAX_STRING_BYTES) {
      throw guardError(
        ErrorCode.TOO_LARGE,
        `${where} is ${bytes} bytes; the limit is ${MAX_STRING_BYTES}`,
        {
          bytes,
          limit: MAX_STRING_BYTES,
        },
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((x, i) => assertStringsWithin(x, `${where}[${i}]`));
  } else if (value !== null && typeof value === "object" && !(value instanceof ArrayBuffer)) {
    for (const [k, x] of Object.entries(value)) assertStringsWithin(x, `${where}.${k}`);
  }
}

/** Checks `erase`'s subject and actor as the erase event will carry them. */
export function validateEraseInput(a: { subject: Subject; actor?: Actor }): void {
  validateEventInput({
    action: ERASE_ACTION,
    actor: a.actor ?? SYSTEM_ACTOR,
    targets: [a.subject],
    outcome: "success",
  });
}

/** Retention in days → milliseconds (undefined: keep forever). */
export function validateRetentionDays(
  days: unknown,
  code: ErrorCode = ErrorCode.INVALID_CONFIG,
): number {
  if (
    typeof days !== "number" ||
    !Number.isFinite(days) ||
    days <= 0 ||
    days > MAX_RETENTION_DAYS
  ) {
    throw guardError(
      code,
      `retention.days must be a number in (0, ${MAX_RETENTION_DAYS}], got ${String(days)}`,
    );
  }
  return days * 24 * 60 * 60 * 1000;
}

export function validateRetentionMs(ms: unknown): void {
  if (ms === undefined) return;
  if (
    typeof ms !== "number" ||
    !Number.isFinite(ms) ||
    ms <= 0 ||
    ms > MAX_RETENTION_DAYS * 86_400_000
  ) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `retentionMs must be a positive number of at most ${MAX_RETENTION_DAYS} days`,
    );
  }
}

// ---- redaction ----

/**
 * Paths that may be redacted: free-text and personal fields. Index fields
 * (actor/target ids, action, tenant, outcome) cannot be, since the indexes
 * would keep them in clear anyway.
 */
const REDACTABLE =
  /^(reason|actor\.name|context\.(ip|userAgent|requestId|sessionId)|metadata(\.[^.]+)+)$/;

export function validateRedactPaths(
  paths: readonly unknown[],
  code: ErrorCode = ErrorCode.INVALID_CONFIG,
): void {
  if (paths.length > MAX_REDACT_PATHS) {
    throw guardError(code, `at most ${MAX_REDACT_PATHS} redact paths, got ${paths.length}`);
  }
  for (const p of paths) {
    if (typeof p !== "string" || byteLength(p) > 256 || !REDACTABLE.test(p)) {
      throw guardError(
        code,
        `redact path ${JSON.stringify(p)} is not one of reason, actor.name, context.<ip|userAgent|requestId|sessionId>, metadata.<path>`,
      );
    }
  }
}

type Json = Record<string, unknown>;

/** Reads a dotted path; undefined when any step is missing or not a plain object. */
export function getPath(obj: unknown, path: string): unknown {
  let at: unknown = obj;
  for (const k of path.split(".")) {
    if (at === null || typeof at !== "object" || Array.isArray(at)) return undefined;
    at = (at as Json)[k];
  }
  return at;
}

/** Copy of `obj` with `path` set (value undefined removes it). Creates plain objects along the way. */
export function setPath<T>(obj: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split(".");
  const base = (
    obj !== null && typeof obj === "object" && !Array.isArray(obj) ? { ...(obj as Json) } : {}
  ) as Json;
  if (rest.length === 0) {
    if (value === undefined) delete base[head!];
    else base[head!] = value;
  } else {
    base[head!] = setPath(base[head!], rest.join("."), value);
  }
  return base as T;
}

// ---- canonical leaf encoding ----

/** The part of an event that the leaf commits to through `payloadHash`. */
export type EventPayload = {
  action: string;
  actor: Actor;
  targets: Target[];
  tenant?: string;
  outcome: Outcome;
  reason?: string;
  severity?: "info" | "warning" | "critical";
  context?: Infer<typeof contextV>;
  metadata?: any;
  occurredAt: number;
  eventId?: string;
  redacted?: Commitment[];
};

/** Extracts the hashed payload from a stored or returned event, dropping revealed redacted values. */
export function payloadOf(e: EventPayload): EventPayload {
  let p: EventPayload = {
    action: e.action,
    actor: e.actor,
    targets: e.targets,
    tenant: e.tenant,
    outcome: e.outcome,
    reason: e.reason,
    severity: e.severity,
    context: e.context,
    metadata: e.metadata,
    occurredAt: e.occurredAt,
    eventId: e.eventId,
    redacted: e.redacted,
  };
  for (const c of e.redacted ?? []) p = setPath(p, c.path, undefined);
  // Empty containers left by removing a redacted path hash like absent ones.
  if (p.context !== undefined && Object.keys(p.context).length === 0) p.context = undefined;
  return p;
}

export async function payloadHash(p: EventPayload): Promise<string> {
  return sha256Hex(`convex-guard/event/v1\n${canonicalJson(p as unknown as Value)}`);
}

/**
 * The leaf of an event: it commits to the payload only through its hash, and
 * to `recordedAt` and `retainUntil` in clear, so that after retention deletes
 * the payload a stub {recordedAt, retainUntil, payloadHash} still rebuilds the
 * leaf, and a retention horizon cannot be moved without breaking the root.
 */
export async function eventLeafHash(h: {
  recordedAt: number;
  retainUntil?: number;
  payloadHash: string;
}): Promise<string> {
  return leafHash(
    canonicalJson({
      v: 1,
      recordedAt: h.recordedAt,
      retainUntil: h.retainUntil ?? null,
      payload: h.payloadHash,
    }),
  );
}

/**
 * Content digest for idempotency: the input as given (before defaults), with
 * the VALUES of redacted paths left out (only which of them were present
 * counts). It is stored unsalted, so hashing a redacted value would let anyone
 * who reads the table test guesses of it (an IP, an email) even after erasure.
 */
export async function inputDigest(e: AuditEventInput, redact: readonly string[]): Promise<string> {
  let clear = e;
  const present: string[] = [];
  for (const path of [...new Set(redact)].sort()) {
    if (getPath(clear, path) === undefined) continue;
    present.push(path);
    clear = setPath(clear, path, undefined);
  }
  return sha256Hex(
    `convex-guard/input/v2\n${canonicalJson({ e: clear as unknown as Value, redacted: present })}`,
  );
}

// ---- list planning ----

export type ListPlan =
  | { index: "by_time" | "by_tenant_time"; eq: string[] }
  | {
      index:
        | "by_actor"
        | "by_tenant_actor"
        | "by_action"
        | "by_tenant_action"
        | "by_outcome"
        | "by_tenant_outcome";
      eq: string[];
    }
  | { index: "targets_by_target" | "targets_by_tenant_target"; eq: string[] };

/**
 * Maps a filter onto one index. Supported: at most ONE of actor, target,
 * action, outcome, optionally with tenant, optionally with a time range
 * [from, to] on `recordedAt`, in either order. Anything else is an error:
 * serving it would mean scanning and filtering.
 */
export function planList(f: AuditListFilter): ListPlan {
  const chosen = (["actor", "target", "action", "outcome"] as const).filter(
    (k) => f[k] !== undefined,
  );
  if (chosen.length > 1) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `list supports at most one of actor, target, action, outcome (plus tenant and from/to); got ${chosen.join(" + ")}`,
    );
  }
  if (f.actor !== undefined) assertSubject(f.actor, "actor");
  if (f.target !== undefined) assertSubject(f.target, "target");
  if (f.action !== undefined) assertKey(f.action, "action");
  if (f.tenant !== undefined) assertKey(f.tenant, "tenant");
  if (f.from !== undefined) assertFinite(f.from, "from");
  if (f.to !== undefined) assertFinite(f.to, "to");
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) {
    throw guardError(ErrorCode.INVALID_ARGUMENT, `from (${f.from}) is after to (${f.to})`);
  }
  const t = f.tenant === undefined ? [] : [f.tenant];
  const scoped = f.tenant !== undefined;
  if (f.actor)
    return { index: scoped ? "by_tenant_actor" : "by_actor", eq: [...t, subjectKey(f.actor)] };
  if (f.target)
    return {
      index: scoped ? "targets_by_tenant_target" : "targets_by_target",
      eq: [...t, subjectKey(f.target)],
    };
  if (f.action) return { index: scoped ? "by_tenant_action" : "by_action", eq: [...t, f.action] };
  if (f.outcome)
    return { index: scoped ? "by_tenant_outcome" : "by_outcome", eq: [...t, f.outcome] };
  return { index: scoped ? "by_tenant_time" : "by_time", eq: t };
}

export function validatePageSize(numItems: unknown): void {
  assertIntInRange(numItems, "paginationOpts.numItems", 1, MAX_PAGE_SIZE);
}

// ---- runtime check of a Convex validator (for typed `actions` metadata) ----

/** Returns a description of the first mismatch, or null when `value` matches `validator`. */
export function validatorMismatch(
  validator: Validator<any, any, any>,
  value: unknown,
  at = "metadata",
): string | null {
  const j = validator as any;
  if (value === undefined) return j.isOptional === "optional" ? null : `${at} is required`;
  switch (j.kind as string) {
    case "any":
      return null;
    case "string":
      return typeof value === "string" ? null : `${at} must be a string`;
    case "float64":
      return typeof value === "number" ? null : `${at} must be a number`;
    case "int64":
      return typeof value === "bigint" ? null : `${at} must be a bigint`;
    case "boolean":
      return typeof value === "boolean" ? null : `${at} must be a boolean`;
    case "null":
      return value === null ? null : `${at} must be null`;
    case "bytes":
      return value instanceof ArrayBuffer ? null : `${at} must be bytes`;
    case "id":
      return typeof value === "string" ? null : `${at} must be an id`;
    case "literal":
      return value === j.value ? null : `${at} must be ${JSON.stringify(j.value)}`;
    case "array":
      if (!Array.isArray(value)) return `${at} must be an array`;
      for (let i = 0; i < value.length; i++) {
        const m = validatorMismatch(j.element, value[i], `${at}[${i}]`);
        if (m) return m;
      }
      return null;
    case "object": {
      if (value === null || typeof value !== "object" || Array.isArray(value))
        return `${at} must be an object`;
      const obj = value as Json;
      for (const k of Object.keys(obj)) {
        if (obj[k] !== undefined && !(k in j.fields)) return `${at}.${k} is not allowed`;
      }
      for (const [k, fv] of Object.entries(j.fields)) {
        const m = validatorMismatch(fv as Validator<any, any, any>, obj[k], `${at}.${k}`);
        if (m) return m;
      }
      return null;
    }
    case "record": {
      if (value === null || typeof value !== "object" || Array.isArray(value))
        return `${at} must be an object`;
      for (const [k, x] of Object.entries(value as Json)) {
        const m =
          validatorMismatch(j.key, k, `${at} key`) ?? validatorMismatch(j.value, x, `${at}.${k}`);
        if (m) return m;
      }
      return null;
    }
    case "union":
      return (j.members as Validator<any, any, any>[]).some(
        (m) => validatorMismatch(m, value, at) === null,
      )
        ? null
        : `${at} matches none of the allowed shapes`;
    default:
      return null;
  }
}
