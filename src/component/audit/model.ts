import { paginationOptsValidator } from "convex/server";
import { v, type Infer } from "convex/values";
import { canonicalJson } from "../lib/hash.js";
import { HOUR } from "../lib/time.js";
import { MAX_SKIP_PATH } from "./skips.js";

/**
 * The audit log's shapes, declared once: validators, the types `Infer`'d from
 * them, size caps and batch constants. Every other audit file (and the
 * client) takes its shapes from here.
 */

// ---- size caps ----
export const MAX_STRING_BYTES = 1024;
export const MAX_METADATA_BYTES = 8 * 1024;
export const MAX_TARGETS = 20;
export const MAX_REDACT_PATHS = 32;
export const MAX_PAGE_SIZE = 500;
/** Retention longer than this (100 years) is almost surely a unit mistake. */
export const MAX_RETENTION_DAYS = 36_500;

// ---- batch sizes (every read is bounded by one of these) ----
/** Events per seal (and per maintenance tick). */
export const SEAL_BATCH = 256;
/** Events retained (payload deleted) per maintenance tick. */
export const RETAIN_BATCH = 100;
/** Secrets rows erased per `erase` call. */
export const ERASE_BATCH = 100;
/** With no events, an empty seal is still written this often, so a deleted time range shows. */
export const EMPTY_SEAL_INTERVAL = HOUR;
/** Events checked per `verify` page (whole seals; at least one): far below the 16 MiB read limit. */
export const VERIFY_PAGE_EVENTS = 512;
/**
 * Seals one `proof` returns at most (the skip path from the event's seal to
 * the head, skips.ts): 2·log2(n) + 1 for a log of n seals, so 2·53 + 1 for
 * any safe seal number.
 */
export const MAX_PROOF_SEALS = MAX_SKIP_PATH;
/**
 * Documents one `proof` reads at most: the event, its seal, the head, seal
 * `headN`, the seal's events and retention stubs (each at most
 * SEAL_BATCH + 1), and the seals of the path.
 */
export const MAX_PROOF_READS = 4 + 2 * (SEAL_BATCH + 1) + MAX_PROOF_SEALS;
/** Unsealed events `verify` counts before it reports the backlog as "at least". */
export const BACKLOG_COUNT_CAP = 1000;

// ---- time bounds (stated in docs/audit-log.md) ----
/**
 * How far an event's `recordedAt` (the mutation's clock) may be from its
 * `_creationTime` and its commit timestamp. A mutation commits within seconds
 * of reading the clock; a row inserted by hand with a back-dated (or
 * future-dated) `recordedAt` falls outside.
 */
export const CLOCK_BOUND_MS = 60_000;
/** Default of `verify`'s `stalledAfterMs`: an unsealed event older than this is `sealing_stalled`. */
export const DEFAULT_STALLED_AFTER_MS = 5 * 60_000;

// ---- event parts ----
export const vOutcome = v.union(v.literal("success"), v.literal("failure"), v.literal("denied"));
export const vSeverity = v.union(v.literal("info"), v.literal("warning"), v.literal("critical"));
export const vActor = v.object({ type: v.string(), id: v.string(), name: v.optional(v.string()) });
export const vTarget = v.object({ type: v.string(), id: v.string(), name: v.optional(v.string()) });
export const vSubject = v.object({ type: v.string(), id: v.string() });
export const vContext = v.object({
  ip: v.optional(v.string()),
  userAgent: v.optional(v.string()),
  requestId: v.optional(v.string()),
  sessionId: v.optional(v.string()),
});
export const vCommitment = v.object({ path: v.string(), commitment: v.string() });
export type Outcome = Infer<typeof vOutcome>;
export type Actor = Infer<typeof vActor>;
export type Target = Infer<typeof vTarget>;
export type Subject = Infer<typeof vSubject>;
export type Commitment = Infer<typeof vCommitment>;

// ---- the event ----

/** Fields an event has both as `log` takes it and as it is stored. */
const eventBodyFields = {
  tenant: v.optional(v.string()),
  outcome: vOutcome,
  reason: v.optional(v.string()),
  severity: v.optional(vSeverity),
  context: v.optional(vContext),
  metadata: v.optional(v.any()),
};

/** What a host passes to `log`. */
export const vEventInput = v.object({
  action: v.string(),
  actor: vActor,
  targets: v.optional(v.array(vTarget)),
  ...eventBodyFields,
  occurredAt: v.optional(v.number()),
  eventId: v.optional(v.string()),
});
export type AuditEventInput = Infer<typeof vEventInput>;

/** What an event's leaf commits to through `payloadHash` (redacted values are not in it). */
export const vEventPayload = v.object({
  action: v.string(),
  actor: vActor,
  targets: v.array(vTarget),
  ...eventBodyFields,
  occurredAt: v.number(),
  eventId: v.optional(v.string()),
  /** Paths stored as salted commitments (their values are not in the event). */
  redacted: v.optional(v.array(vCommitment)),
});
export type EventPayload = Infer<typeof vEventPayload>;
export const PAYLOAD_FIELDS = Object.keys(vEventPayload.fields) as (keyof EventPayload)[];

/** A stored event as `get` and `list` return it (the table adds its index keys). */
export const vStoredEvent = v.object({
  ...vEventPayload.fields,
  recordedAt: v.number(),
  /** Commit timestamp (database clock, ns): orders unsealed events for the sealer. */
  commitTs: v.commitTs(),
  /** Salt of the payload digest (32 hex digits), so a retention stub cannot be tested against guesses. */
  payloadSalt: v.string(),
  /** Idempotency digest of the input (only with `eventId`); the leaf covers it. */
  inputHash: v.optional(v.string()),
  retainUntil: v.optional(v.number()),
  /** Position in the sealed log; absent until the event is sealed. */
  seq: v.optional(v.number()),
  leafHash: v.string(),
});
export type StoredEvent = Infer<typeof vStoredEvent>;

/** The fields of a stored event that `get` and `list` return. */
const { commitTs: _commitTs, ...servedEventFields } = vStoredEvent.fields;
export const SERVED_EVENT_FIELDS = Object.keys(servedEventFields) as (keyof StoredEvent)[];

/** An event as `get` and `list` return it. */
export const vAuditEvent = v.object({
  id: v.string(),
  ...servedEventFields,
  /** With `reveal`: redacted paths whose value was erased. */
  erased: v.optional(v.array(v.string())),
  /** With `reveal`: redacted paths whose stored value does not match its commitment (not revealed). */
  mismatched: v.optional(v.array(v.string())),
  /** With `reveal`: the salt of each revealed value, so `verifyProof` can check it. */
  salts: v.optional(v.array(v.object({ path: v.string(), salt: v.string() }))),
});
export type AuditEvent = Infer<typeof vAuditEvent>;

// ---- seals ----

/** A seal as stored: seal n covers events fromSeq..toSeq (none when toSeq < fromSeq); `hash` chains it to seal n-1. */
export const vStoredSeal = v.object({
  n: v.number(),
  fromSeq: v.number(),
  toSeq: v.number(),
  root: v.string(),
  prevHash: v.string(),
  hash: v.string(),
  sealedAt: v.number(),
  /** Every event that committed at or before this timestamp is sealed. */
  upTo: v.int64(),
  /** Digest of the sealed events' commit timestamps, in seq order. */
  commits: v.string(),
  /** Hashes of seals n-2, n-4, …, n-2^tz(n) (skips.ts), so proofs are O(log n) seals. */
  skips: v.array(v.string()),
});
/** A seal as `proof` returns it: `upTo` in decimal, so a proof survives JSON. */
export const vSeal = v.object({ ...vStoredSeal.fields, upTo: v.string() });
export type AuditSeal = Infer<typeof vSeal>;

export const vHead = v.union(
  v.null(),
  v.object({
    n: v.number(),
    toSeq: v.number(),
    root: v.string(),
    hash: v.string(),
    sealedAt: v.number(),
    /** `cg1:<n>:<hash>`: publish it outside Convex, pass it back as `verify({ anchor })`. */
    anchor: v.string(),
  }),
);

export const vProof = v.object({
  seq: v.number(),
  /** Position of the event's leaf in its seal's batch, and the batch size. */
  index: v.number(),
  size: v.number(),
  /** RFC 6962 audit path, bottom-up. */
  path: v.array(v.string()),
  /**
   * The event's seal first, then the seals of the skip path up to the head
   * (or `headN`), ascending: each one links to the one before it by
   * `prevHash` or `skips`. At most MAX_PROOF_SEALS.
   */
  seals: v.array(vSeal),
});

export const vBreakKind = v.union(
  v.literal("event_edited"),
  v.literal("event_deleted"),
  v.literal("event_inserted"),
  v.literal("root_mismatch"),
  v.literal("retained_early"),
  v.literal("seal_edited"),
  v.literal("seal_deleted"),
  v.literal("seal_inserted"),
  v.literal("event_unsealed"),
  v.literal("time_mismatch"),
  v.literal("index_mismatch"),
  v.literal("secret_mismatch"),
  v.literal("malformed"),
  v.literal("sealing_stalled"),
  v.literal("anchor_mismatch"),
);
export type BreakKind = Infer<typeof vBreakKind>;
export const vBreak = v.object({
  kind: vBreakKind,
  seal: v.optional(v.number()),
  seq: v.optional(v.number()),
  message: v.string(),
});
export type Break = Infer<typeof vBreak>;

export const vVerifyResult = v.object({
  /** No break found so far (this page and, through the cursor, the pages before). */
  ok: v.boolean(),
  /** True when the whole chain was checked, or a break stopped the walk. */
  done: v.boolean(),
  /** Pass to the next call while `done` is false. */
  cursor: v.union(v.string(), v.null()),
  checkedSeals: v.number(),
  checkedEvents: v.number(),
  /** Sequence ranges whose payloads retention deleted: hashes verified, content gone. */
  retained: v.array(v.object({ fromSeq: v.number(), toSeq: v.number() })),
  /** The last seal this page verified: compare with an anchored `head`. */
  head: v.union(v.null(), v.object({ n: v.number(), hash: v.string() })),
  break: v.union(v.null(), vBreak),
  /** On the last page: how far sealing is behind (null on earlier pages). */
  liveness: v.union(
    v.null(),
    v.object({
      /** Events committed but not sealed yet (at most BACKLOG_COUNT_CAP, then `unsealedCapped`). */
      unsealed: v.number(),
      unsealedCapped: v.boolean(),
      /** Commit time (ms) of the oldest unsealed event. */
      oldestUnsealedAt: v.union(v.number(), v.null()),
      /** When the newest seal was written. */
      headSealedAt: v.union(v.number(), v.null()),
    }),
  ),
});
export type VerifyResult = Infer<typeof vVerifyResult>;

export const vMaintenanceResult = v.object({ processed: v.number(), more: v.boolean() });

// ---- list filters ----

/** Filters of `list` (and `export`). */
export const vListFilter = v.object({
  actor: v.optional(vSubject),
  target: v.optional(vSubject),
  action: v.optional(v.string()),
  tenant: v.optional(v.string()),
  outcome: v.optional(vOutcome),
  from: v.optional(v.number()),
  to: v.optional(v.number()),
  order: v.optional(v.union(v.literal("asc"), v.literal("desc"))),
});
export type AuditListFilter = Infer<typeof vListFilter>;

// ---- arguments of the public functions (../audit.ts) ----

/**
 * The argument validator of each public audit function, by name: the
 * functions' own `args`, and what the host's client checks a call against
 * before making it, without importing the functions themselves (and so the
 * component's server code) into the host's bundle.
 */
export const auditArgs = {
  log: {
    event: vEventInput,
    redact: v.optional(v.array(v.string())),
    retentionMs: v.optional(v.number()),
  },
  seal: {},
  erase: { subject: vSubject, actor: v.optional(vActor), retentionMs: v.optional(v.number()) },
  list: { ...vListFilter.fields, paginationOpts: paginationOptsValidator },
  get: { id: v.string(), reveal: v.optional(v.boolean()) },
  head: {},
  proof: { id: v.string(), headN: v.optional(v.number()) },
  verify: {
    cursor: v.optional(v.union(v.string(), v.null())),
    maxEvents: v.optional(v.number()),
    /** A head published earlier (`head().anchor`): fails unless the chain extends it. */
    anchor: v.optional(v.string()),
    /** An unsealed event older than this is `sealing_stalled` (default 5 minutes). */
    stalledAfterMs: v.optional(v.number()),
  },
};

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

/** Copy of `o` with only `fields`, undefined ones dropped (Convex documents cannot hold them). */
export function pick<T extends object, K extends keyof T>(o: T, fields: readonly K[]): Pick<T, K> {
  const out: Partial<Pick<T, K>> = {};
  for (const f of fields) if (o[f] !== undefined) out[f] = o[f];
  return out as Pick<T, K>;
}
