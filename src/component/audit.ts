import { v, type Infer } from "convex/values";
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { mutation, query, type MutationCtx, type QueryCtx } from "./_generated/server.js";
import type { Doc, Id } from "./_generated/dataModel.js";
import { ensureMaintenance, type MaintenanceResult } from "./maintenance/kick.js";
import { ErrorCode, guardError } from "./lib/errors.js";
import { toHex } from "./lib/hash.js";
import { HOUR } from "./lib/time.js";
import { assertIntInRange } from "./lib/validate.js";
import {
  ERASE_ACTION,
  RETENTION_ACTION,
  SYSTEM_ACTOR,
  auditEventV,
  eventInputV,
  eventLeafHash,
  getPath,
  inputDigest,
  listFilterFields,
  payloadHash,
  payloadOf,
  planList,
  sealFields,
  setPath,
  subjectKey,
  subjectV,
  actorV,
  tenantKey,
  validateEraseInput,
  validateEventInput,
  validatePageSize,
  validateRedactPaths,
  validateRetentionMs,
  type AuditEvent,
  type AuditEventInput,
  type Commitment,
  type EventPayload,
} from "./audit/model.js";
import { GENESIS_HASH, commitment, inclusionPath, merkleRoot, sealHash } from "./audit/merkle.js";

/*
 * The audit log. `log` inserts an event and its index rows and touches no
 * shared document, so concurrent host mutations never conflict because of the
 * log. The maintenance loop (one in flight, ever) later seals unsealed events
 * in batches: consecutive `seq`, a Merkle root per batch, and a seal chained to
 * the previous one. `verify` recomputes all of it in bounded pages.
 */

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
/** Seals returned by one `proof` (the chain from the event's seal to the head). */
export const MAX_PROOF_SEALS = 1000;

// ---- validators ----

const sealV = v.object(sealFields);
export type AuditSeal = Infer<typeof sealV>;

const headV = v.union(
  v.null(),
  v.object({ n: v.number(), toSeq: v.number(), hash: v.string(), sealedAt: v.number() }),
);

const proofV = v.object({
  seq: v.number(),
  /** Position of the event's leaf in its seal's batch, and the batch size. */
  index: v.number(),
  size: v.number(),
  /** RFC 6962 audit path, bottom-up. */
  path: v.array(v.string()),
  /** The event's seal first, then every later seal up to the head. */
  seals: v.array(sealV),
});

const breakKindV = v.union(
  v.literal("event_edited"),
  v.literal("event_deleted"),
  v.literal("event_inserted"),
  v.literal("root_mismatch"),
  v.literal("retained_early"),
  v.literal("seal_edited"),
  v.literal("seal_deleted"),
  v.literal("seal_inserted"),
);
const verifyResultV = v.object({
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
  break: v.union(
    v.null(),
    v.object({
      kind: breakKindV,
      seal: v.optional(v.number()),
      seq: v.optional(v.number()),
      message: v.string(),
    }),
  ),
});
export type VerifyResult = Infer<typeof verifyResultV>;
type Break = NonNullable<VerifyResult["break"]>;

const maintenanceResultV = v.object({ processed: v.number(), more: v.boolean() });

// ---- helpers ----

/** Drops undefined fields (Convex documents cannot hold them). */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
}

function randomSaltHex(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

function toEvent(d: Doc<"auditEvents">): AuditEvent {
  return compact({
    id: d._id as string,
    action: d.action,
    actor: d.actor,
    targets: d.targets,
    tenant: d.tenant,
    outcome: d.outcome,
    reason: d.reason,
    severity: d.severity,
    context: d.context,
    metadata: d.metadata,
    occurredAt: d.occurredAt,
    recordedAt: d.recordedAt,
    eventId: d.eventId,
    redacted: d.redacted,
    retainUntil: d.retainUntil,
    seq: d.seq,
    leafHash: d.leafHash,
  });
}

/** Leaf hash recomputed from an event document's payload (ignores its stored leafHash). */
async function recomputeLeaf(d: Doc<"auditEvents">): Promise<string> {
  return eventLeafHash({
    recordedAt: d.recordedAt,
    retainUntil: d.retainUntil,
    payloadHash: await payloadHash(payloadOf(d)),
  });
}

function normalizeEventId(ctx: QueryCtx, id: string): Id<"auditEvents"> {
  const norm = ctx.db.normalizeId("auditEvents", id);
  if (norm === null)
    throw guardError(ErrorCode.INVALID_ARGUMENT, `${JSON.stringify(id)} is not an audit event id`);
  return norm;
}

// ---- log ----

/**
 * Inserts one event with its leaf hash, target rows and (if redacted) secrets.
 * Reads nothing but the idempotency key and the write-once maintenance doc.
 */
export async function insertEvent(
  ctx: MutationCtx,
  now: number,
  input: AuditEventInput,
  redact: readonly string[],
  retentionMs: number | undefined,
): Promise<Id<"auditEvents">> {
  const tk = tenantKey(input.tenant);
  let inputHash: string | undefined;
  if (input.eventId !== undefined) {
    inputHash = await inputDigest(input, redact);
    const existing = await ctx.db
      .query("auditEvents")
      .withIndex("by_tenant_eventId", (q) => q.eq("tenantKey", tk).eq("eventId", input.eventId))
      .first();
    if (existing !== null) {
      if (existing.inputHash === inputHash) return existing._id;
      throw guardError(
        ErrorCode.CONFLICT,
        `eventId ${JSON.stringify(input.eventId)} was already logged with different content`,
      );
    }
  }
  let payload: EventPayload = {
    action: input.action,
    actor: input.actor,
    targets: input.targets ?? [],
    tenant: input.tenant,
    outcome: input.outcome,
    reason: input.reason,
    severity: input.severity,
    context: input.context,
    metadata: input.metadata,
    occurredAt: input.occurredAt ?? now,
    eventId: input.eventId,
  };
  // Redacted values leave the event; a salted commitment takes their place.
  const secrets: { path: string; salt: string; value: any }[] = [];
  const commitments: Commitment[] = [];
  for (const path of [...new Set(redact)].sort()) {
    const value = getPath(payload, path);
    if (value === undefined) continue;
    const salt = randomSaltHex();
    secrets.push({ path, salt, value });
    commitments.push({ path, commitment: await commitment(salt, value as any) });
    payload = setPath(payload, path, undefined);
  }
  if (commitments.length > 0) payload.redacted = commitments;
  payload = payloadOf(payload);
  const retainUntil = retentionMs === undefined ? undefined : now + retentionMs;
  const leaf = await eventLeafHash({
    recordedAt: now,
    retainUntil,
    payloadHash: await payloadHash(payload),
  });
  const id = await ctx.db.insert(
    "auditEvents",
    compact({
      ...payload,
      actorKey: subjectKey(payload.actor),
      tenantKey: tk,
      recordedAt: now,
      inputHash,
      retainUntil,
      leafHash: leaf,
    }),
  );
  const targetKeys = [...new Set(payload.targets.map(subjectKey))];
  for (const targetKey of targetKeys) {
    await ctx.db.insert("auditTargets", { event: id, targetKey, tenantKey: tk, recordedAt: now });
  }
  if (secrets.length > 0) {
    const secret = await ctx.db.insert("auditSecrets", { event: id, values: secrets });
    for (const key of new Set([subjectKey(payload.actor), ...targetKeys])) {
      await ctx.db.insert("auditSecretRefs", { subjectKey: key, secret });
    }
  }
  await ensureMaintenance(ctx, now);
  return id;
}

export const log = mutation({
  args: {
    event: eventInputV,
    redact: v.optional(v.array(v.string())),
    retentionMs: v.optional(v.number()),
  },
  returns: v.string(),
  handler: async (ctx, args) => {
    const now = Date.now();
    validateEventInput(args.event);
    validateRedactPaths(args.redact ?? [], ErrorCode.INVALID_ARGUMENT);
    validateRetentionMs(args.retentionMs);
    return await insertEvent(ctx, now, args.event, args.redact ?? [], args.retentionMs);
  },
});

// ---- sealing and retention (maintenance) ----

async function lastSeal(ctx: QueryCtx): Promise<Doc<"auditSeals"> | null> {
  return ctx.db.query("auditSeals").withIndex("by_n").order("desc").first();
}

async function writeSeal(
  ctx: MutationCtx,
  prev: Doc<"auditSeals"> | null,
  leaves: string[],
  now: number,
): Promise<void> {
  const n = prev === null ? 0 : prev.n + 1;
  const fromSeq = prev === null ? 0 : prev.toSeq + 1;
  const header = {
    n,
    fromSeq,
    toSeq: fromSeq + leaves.length - 1,
    root: await merkleRoot(leaves),
    prevHash: prev === null ? GENESIS_HASH : prev.hash,
    sealedAt: now,
  };
  await ctx.db.insert("auditSeals", { ...header, hash: await sealHash(header) });
}

/**
 * Seals one batch of unsealed events, oldest first. Unsealed events are found
 * by the `seq`-unset index range, never by `recordedAt`, so an event that
 * commits late with an early `recordedAt` is still sealed. The range ends at
 * this call's clock (`_creationTime`, the index's implicit last field): `log`
 * calls that start while the sealer runs insert after that end, outside its
 * read set, so a busy log does not make every seal attempt conflict and retry.
 * Their events go into the next seal.
 */
export async function sealBatch(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const unsealed = await ctx.db
    .query("auditEvents")
    .withIndex("by_seq", (q) => q.eq("seq", undefined).lt("_creationTime", now + 1))
    .take(SEAL_BATCH + 1);
  const prev = await lastSeal(ctx);
  if (unsealed.length === 0) {
    if (prev !== null && now - prev.sealedAt >= EMPTY_SEAL_INTERVAL)
      await writeSeal(ctx, prev, [], now);
    return { processed: 0, more: false };
  }
  const batch = unsealed.slice(0, SEAL_BATCH);
  const fromSeq = prev === null ? 0 : prev.toSeq + 1;
  for (let i = 0; i < batch.length; i++)
    await ctx.db.patch("auditEvents", batch[i]!._id, { seq: fromSeq + i });
  await writeSeal(
    ctx,
    prev,
    batch.map((e) => e.leafHash),
    now,
  );
  return { processed: batch.length, more: unsealed.length > SEAL_BATCH };
}

/** Deletes the payload of one event: index rows, secrets, the event; keeps a stub that rebuilds its leaf. */
async function retainEvent(ctx: MutationCtx, e: Doc<"auditEvents">, now: number): Promise<void> {
  await ctx.db.insert("auditRetained", {
    seq: e.seq!,
    recordedAt: e.recordedAt,
    retainUntil: e.retainUntil!,
    payloadHash: await payloadHash(payloadOf(e)),
    retainedAt: now,
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

async function deleteSecret(ctx: MutationCtx, secret: Id<"auditSecrets">): Promise<void> {
  for (const r of await ctx.db
    .query("auditSecretRefs")
    .withIndex("by_secret", (q) => q.eq("secret", secret))
    .take(64)) {
    await ctx.db.delete("auditSecretRefs", r._id);
  }
  await ctx.db.delete("auditSecrets", secret);
}

/** Applies retention to one bounded batch of sealed events past their horizon, and records it. */
export async function retainBatch(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const due = await ctx.db
    .query("auditEvents")
    .withIndex("by_retainUntil", (q) => q.gte("retainUntil", 0).lte("retainUntil", now))
    .take(RETAIN_BATCH + 1);
  // Unsealed events wait for their seal: the stub needs a seq.
  const batch = due.slice(0, RETAIN_BATCH).filter((e) => e.seq !== undefined);
  for (const e of batch) await retainEvent(ctx, e, now);
  const more = due.length > RETAIN_BATCH || batch.length < Math.min(due.length, RETAIN_BATCH);
  // Record the run, unless it only removed earlier retention records (that would never end).
  const real = batch.filter((e) => e.action !== RETENTION_ACTION);
  if (real.length > 0) {
    const seqs = batch.map((e) => e.seq!).sort((a, b) => a - b);
    const horizon = Math.max(...batch.map((e) => e.retainUntil! - e.recordedAt));
    await insertEvent(
      ctx,
      now,
      {
        action: RETENTION_ACTION,
        actor: { ...SYSTEM_ACTOR },
        outcome: "success",
        metadata: { events: batch.length, fromSeq: seqs[0]!, toSeq: seqs[seqs.length - 1]! },
      },
      [],
      horizon,
    );
  }
  return { processed: batch.length, more };
}

/** Called by the maintenance loop every tick: one seal batch, one retention batch. */
export async function maintainAudit(ctx: MutationCtx, now: number): Promise<MaintenanceResult> {
  const sealed = await sealBatch(ctx, now);
  const retained = await retainBatch(ctx, now);
  return { processed: sealed.processed + retained.processed, more: sealed.more || retained.more };
}

/** Seals one bounded batch now (tests, demos, hosts driving their own cadence). */
export const seal = mutation({
  args: {},
  returns: maintenanceResultV,
  handler: async (ctx) => sealBatch(ctx, Date.now()),
});

// ---- erasure ----

/**
 * Right to erasure: deletes the values and salts of redacted fields of events
 * whose actor or a target is `subject`, one bounded batch per call. The
 * commitments stay in the events, so every hash still verifies. Each call is
 * itself recorded as an event. Call again while `done` is false.
 */
export const erase = mutation({
  args: { subject: subjectV, actor: v.optional(actorV), retentionMs: v.optional(v.number()) },
  returns: v.object({ erased: v.number(), done: v.boolean() }),
  handler: async (ctx, args) => {
    const now = Date.now();
    validateEraseInput(args);
    validateRetentionMs(args.retentionMs);
    const refs = await ctx.db
      .query("auditSecretRefs")
      .withIndex("by_subject", (q) => q.eq("subjectKey", subjectKey(args.subject)))
      .take(ERASE_BATCH + 1);
    const batch = refs.slice(0, ERASE_BATCH);
    let erased = 0;
    for (const ref of batch) {
      const secret = await ctx.db.get("auditSecrets", ref.secret);
      if (secret !== null) {
        await deleteSecret(ctx, secret._id);
        erased++;
      } else {
        await ctx.db.delete("auditSecretRefs", ref._id);
      }
    }
    const done = refs.length <= ERASE_BATCH;
    await insertEvent(
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
    return { erased, done };
  },
});

// ---- reads ----

const INDEX_FIELDS: Record<string, string[]> = {
  by_time: [],
  by_tenant_time: ["tenantKey"],
  by_actor: ["actorKey"],
  by_tenant_actor: ["tenantKey", "actorKey"],
  by_action: ["action"],
  by_tenant_action: ["tenantKey", "action"],
  by_outcome: ["outcome"],
  by_tenant_outcome: ["tenantKey", "outcome"],
  by_target: ["targetKey"],
  by_tenant_target: ["tenantKey", "targetKey"],
};

/**
 * One page of events matching the filter, newest first by default, served by
 * exactly one index (see `planList` for the supported combinations).
 */
export const list = query({
  args: { ...listFilterFields, paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(auditEventV),
  handler: async (ctx, args) => {
    const { paginationOpts, ...filter } = args;
    const plan = planList(filter);
    validatePageSize(paginationOpts.numItems);
    const order = filter.order ?? "desc";
    const onTargets = plan.index.startsWith("targets_");
    const index = onTargets ? plan.index.slice("targets_".length) : plan.index;
    const range = (q: any) => {
      let b = q;
      INDEX_FIELDS[index]!.forEach((f, i) => (b = b.eq(f, plan.eq[i])));
      if (filter.from !== undefined) b = b.gte("recordedAt", filter.from);
      if (filter.to !== undefined) b = b.lte("recordedAt", filter.to);
      return b;
    };
    if (!onTargets) {
      const res = await ctx.db
        .query("auditEvents")
        .withIndex(index as "by_time", range)
        .order(order)
        .paginate(paginationOpts);
      return { ...res, page: res.page.map(toEvent) };
    }
    const res = await ctx.db
      .query("auditTargets")
      .withIndex(index as "by_target", range)
      .order(order)
      .paginate(paginationOpts);
    const docs = await Promise.all(res.page.map((r) => ctx.db.get("auditEvents", r.event)));
    return { ...res, page: docs.filter((d): d is Doc<"auditEvents"> => d !== null).map(toEvent) };
  },
});

/** One event; with `reveal`, redacted values that were not erased are put back. */
export const get = query({
  args: { id: v.string(), reveal: v.optional(v.boolean()) },
  returns: v.union(auditEventV, v.null()),
  handler: async (ctx, args) => {
    const doc = await ctx.db.get("auditEvents", normalizeEventId(ctx, args.id));
    if (doc === null) return null;
    let event = toEvent(doc);
    if (!args.reveal || doc.redacted === undefined) return event;
    const secret = await ctx.db
      .query("auditSecrets")
      .withIndex("by_event", (q) => q.eq("event", doc._id))
      .first();
    const erased: string[] = [];
    for (const c of doc.redacted) {
      const s = secret?.values.find((x) => x.path === c.path);
      if (s === undefined) erased.push(c.path);
      else event = setPath(event, c.path, s.value);
    }
    return { ...event, erased };
  },
});

/** The latest seal: anchor its hash outside Convex to detect truncation or rewrites later. */
export const head = query({
  args: {},
  returns: headV,
  handler: async (ctx) => {
    const s = await lastSeal(ctx);
    return s === null ? null : { n: s.n, toSeq: s.toSeq, hash: s.hash, sealedAt: s.sealedAt };
  },
});

function sealOf(d: Doc<"auditSeals">): AuditSeal {
  const { n, fromSeq, toSeq, root, prevHash, hash, sealedAt } = d;
  return { n, fromSeq, toSeq, root, prevHash, hash, sealedAt };
}

/** Whether a seal's range is one the sealer could have written (checked before reading its events). */
function sealRangeOk(s: Doc<"auditSeals">, prevTo: number): boolean {
  const count = s.toSeq - s.fromSeq + 1;
  return s.fromSeq === prevTo + 1 && Number.isInteger(count) && count >= 0 && count <= SEAL_BATCH;
}

/** Leaf hashes of seq range [fromSeq, toSeq] as stored (events' leafHash, stubs' rebuilt leaves), by seq. */
async function storedLeaves(ctx: QueryCtx, fromSeq: number, toSeq: number) {
  const count = toSeq - fromSeq + 1;
  const events = await ctx.db
    .query("auditEvents")
    .withIndex("by_seq", (q) => q.gte("seq", fromSeq).lte("seq", toSeq))
    .take(count + 1);
  const stubs = await ctx.db
    .query("auditRetained")
    .withIndex("by_seq", (q) => q.gte("seq", fromSeq).lte("seq", toSeq))
    .take(count + 1);
  return { events, stubs };
}

async function stubLeaf(s: Doc<"auditRetained">): Promise<string> {
  return eventLeafHash({
    recordedAt: s.recordedAt,
    retainUntil: s.retainUntil,
    payloadHash: s.payloadHash,
  });
}

/**
 * Inclusion proof of a sealed event: its audit path in its seal's batch and
 * the seal chain from there to the head (or to seal `headN`). Null while the
 * event is not sealed yet.
 */
export const proof = query({
  args: { id: v.string(), headN: v.optional(v.number()) },
  returns: v.union(v.null(), proofV),
  handler: async (ctx, args) => {
    const doc = await ctx.db.get("auditEvents", normalizeEventId(ctx, args.id));
    if (doc === null)
      throw guardError(ErrorCode.NOT_FOUND, `audit event ${args.id} does not exist`);
    if (doc.seq === undefined) return null;
    const seq = doc.seq;
    const sealDoc = await ctx.db
      .query("auditSeals")
      .withIndex("by_toSeq", (q) => q.gte("toSeq", seq))
      .first();
    if (sealDoc === null || sealDoc.fromSeq > seq) {
      throw guardError(ErrorCode.NOT_FOUND, `no seal covers seq ${seq}`);
    }
    // An edited range would make the proof read (and hash) an unbounded number of events.
    if (!sealRangeOk(sealDoc, sealDoc.fromSeq - 1)) {
      throw guardError(
        ErrorCode.CONFLICT,
        `seal ${sealDoc.n} covers an impossible range; run verify`,
      );
    }
    if (args.headN !== undefined && (!Number.isInteger(args.headN) || args.headN < sealDoc.n)) {
      throw guardError(
        ErrorCode.INVALID_ARGUMENT,
        `headN must be an integer of at least ${sealDoc.n}`,
      );
    }
    const { events, stubs } = await storedLeaves(ctx, sealDoc.fromSeq, sealDoc.toSeq);
    const bySeq = new Map<number, string>();
    for (const e of events) bySeq.set(e.seq!, e.leafHash);
    for (const s of stubs) bySeq.set(s.seq, await stubLeaf(s));
    const leaves: string[] = [];
    for (let s = sealDoc.fromSeq; s <= sealDoc.toSeq; s++) leaves.push(bySeq.get(s) ?? "");
    const seals = await ctx.db
      .query("auditSeals")
      .withIndex("by_n", (q) =>
        args.headN === undefined
          ? q.gte("n", sealDoc.n)
          : q.gte("n", sealDoc.n).lte("n", args.headN),
      )
      .take(MAX_PROOF_SEALS + 1);
    if (seals.length > MAX_PROOF_SEALS) {
      throw guardError(
        ErrorCode.TOO_LARGE,
        `the chain from seal ${sealDoc.n} to the head has more than ${MAX_PROOF_SEALS} seals; pass headN (an anchored seal) closer to it`,
      );
    }
    return {
      seq,
      index: seq - sealDoc.fromSeq,
      size: leaves.length,
      path: await inclusionPath(leaves, seq - sealDoc.fromSeq),
      seals: seals.map(sealOf),
    };
  },
});

// ---- verify ----

/**
 * Recomputes leaves, Merkle roots and the seal chain from seal `cursor` on,
 * for at most VERIFY_PAGE_EVENTS events, and reports the first break.
 */
export const verify = query({
  args: { cursor: v.optional(v.union(v.string(), v.null())), maxEvents: v.optional(v.number()) },
  returns: verifyResultV,
  handler: async (ctx, args) => {
    const now = Date.now();
    if (args.maxEvents !== undefined)
      assertIntInRange(args.maxEvents, "maxEvents", 1, VERIFY_PAGE_EVENTS);
    const pageEvents = args.maxEvents ?? VERIFY_PAGE_EVENTS;
    const start = args.cursor == null ? 0 : Number(args.cursor);
    if (!Number.isInteger(start) || start < 0) {
      throw guardError(
        ErrorCode.INVALID_ARGUMENT,
        `cursor ${JSON.stringify(args.cursor)} is not a verify cursor`,
      );
    }
    const result: VerifyResult = {
      ok: true,
      done: false,
      cursor: null,
      checkedSeals: 0,
      checkedEvents: 0,
      retained: [],
      head: null,
      break: null,
    };
    const fail = (b: Break): VerifyResult => ({
      ...result,
      ok: false,
      done: true,
      cursor: null,
      break: b,
    });

    let prev: Doc<"auditSeals"> | null = null;
    if (start > 0) {
      prev = await ctx.db
        .query("auditSeals")
        .withIndex("by_n", (q) => q.eq("n", start - 1))
        .first();
      if (prev === null)
        return fail({
          kind: "seal_deleted",
          seal: start - 1,
          message: `seal ${start - 1} is missing`,
        });
    } else {
      // Events sequenced below 0 cannot come from the sealer.
      const stray = await ctx.db
        .query("auditEvents")
        .withIndex("by_seq", (q) => q.gte("seq", -Infinity).lt("seq", 0))
        .first();
      if (stray !== null) {
        return fail({
          kind: "event_inserted",
          seq: stray.seq,
          message: `an event has negative seq ${stray.seq}`,
        });
      }
    }
    const seals = await ctx.db
      .query("auditSeals")
      .withIndex("by_n", (q) => q.gte("n", start))
      .take(pageEvents + 1);
    let budget = pageEvents;
    let i = 0;
    for (; i < seals.length; i++) {
      const s = seals[i]!;
      const count = s.toSeq - s.fromSeq + 1;
      if (result.checkedSeals > 0 && count > budget) break;
      const b = await checkSeal(ctx, prev, s, now, result);
      if (b !== null) return fail(b);
      result.checkedSeals++;
      result.checkedEvents += count;
      result.head = { n: s.n, hash: s.hash };
      budget -= count;
      prev = s;
    }
    if (i < seals.length) return { ...result, cursor: String(seals[i]!.n) };
    // Whole chain checked: nothing may carry a seq beyond the last seal.
    const lastTo = prev === null ? -1 : prev.toSeq;
    const extra = await ctx.db
      .query("auditEvents")
      .withIndex("by_seq", (q) => q.gt("seq", lastTo))
      .first();
    const extraStub = await ctx.db
      .query("auditRetained")
      .withIndex("by_seq", (q) => q.gt("seq", lastTo))
      .first();
    const stray = extra?.seq ?? extraStub?.seq;
    if (stray !== undefined) {
      return fail({
        kind: "event_inserted",
        seq: stray,
        message: `seq ${stray} is beyond the last seal (toSeq ${lastTo}): inserted, or the newest seal was deleted`,
      });
    }
    return { ...result, done: true };
  },
});

/** Checks one seal against its predecessor and its events. Returns the first break or null. */
async function checkSeal(
  ctx: QueryCtx,
  prev: Doc<"auditSeals"> | null,
  s: Doc<"auditSeals">,
  now: number,
  result: VerifyResult,
): Promise<Break | null> {
  const expectedN = prev === null ? 0 : prev.n + 1;
  if (s.n > expectedN)
    return { kind: "seal_deleted", seal: expectedN, message: `seal ${expectedN} is missing` };
  if (s.n !== expectedN)
    return {
      kind: "seal_inserted",
      seal: s.n,
      message: `seal number ${s.n} repeats or is not an integer`,
    };
  if ((await sealHash(s)) !== s.hash)
    return { kind: "seal_edited", seal: s.n, message: `seal ${s.n} does not match its hash` };
  const prevHash = prev === null ? GENESIS_HASH : prev.hash;
  const prevTo = prev === null ? -1 : prev.toSeq;
  if (s.prevHash !== prevHash) {
    return {
      kind: "seal_edited",
      seal: s.n,
      message: `seal ${s.n} does not chain to seal ${s.n - 1}`,
    };
  }
  if (!sealRangeOk(s, prevTo)) {
    return {
      kind: "seal_edited",
      seal: s.n,
      message: `seal ${s.n} covers an impossible range ${s.fromSeq}..${s.toSeq}`,
    };
  }
  const { events, stubs } = await storedLeaves(ctx, s.fromSeq, s.toSeq);
  const bySeq = new Map<
    number,
    Array<{ event?: Doc<"auditEvents">; stub?: Doc<"auditRetained"> }>
  >();
  const add = (seq: number, item: { event?: Doc<"auditEvents">; stub?: Doc<"auditRetained"> }) => {
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), item]);
  };
  for (const e of events) add(e.seq!, { event: e });
  for (const st of stubs) add(st.seq, { stub: st });
  for (const seq of bySeq.keys()) {
    if (!Number.isInteger(seq)) {
      return {
        kind: "event_inserted",
        seal: s.n,
        seq,
        message: `an event has non-integer seq ${seq} inside seal ${s.n}`,
      };
    }
  }
  const leaves: string[] = [];
  for (let seq = s.fromSeq; seq <= s.toSeq; seq++) {
    const items = bySeq.get(seq) ?? [];
    if (items.length === 0) {
      return {
        kind: "event_deleted",
        seal: s.n,
        seq,
        message: `the event with seq ${seq} (seal ${s.n}) is missing`,
      };
    }
    if (items.length > 1) {
      return {
        kind: "event_inserted",
        seal: s.n,
        seq,
        message: `seq ${seq} (seal ${s.n}) is held by ${items.length} events`,
      };
    }
    const { event, stub } = items[0]!;
    if (event !== undefined) {
      const leaf = await recomputeLeaf(event);
      if (leaf !== event.leafHash) {
        return {
          kind: "event_edited",
          seal: s.n,
          seq,
          message: `the event with seq ${seq} (seal ${s.n}) was edited`,
        };
      }
      leaves.push(leaf);
    } else {
      if (!(stub!.retainUntil <= now)) {
        return {
          kind: "retained_early",
          seal: s.n,
          seq,
          message: `the event with seq ${seq} was removed before its retention horizon`,
        };
      }
      leaves.push(await stubLeaf(stub!));
      const last = result.retained[result.retained.length - 1];
      if (last !== undefined && last.toSeq === seq - 1) last.toSeq = seq;
      else result.retained.push({ fromSeq: seq, toSeq: seq });
    }
  }
  if ((await merkleRoot(leaves)) !== s.root) {
    return {
      kind: "root_mismatch",
      seal: s.n,
      message: `the events of seal ${s.n} (seq ${s.fromSeq}..${s.toSeq}) were reordered or replaced, or its root was edited`,
    };
  }
  return null;
}
