import type { PaginationOptions, PaginationResult } from "convex/server";
import type { Doc, Id } from "../_generated/dataModel.js";
import type { QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { assertFinite, assertKey } from "../lib/validate.js";
import { assertPageSize, assertSubject } from "./checks.js";
import { secretMatches } from "./leaf.js";
import { setPath } from "./redaction.js";
import {
  SERVED_EVENT_FIELDS,
  pick,
  subjectKey,
  type AuditEvent,
  type AuditListFilter,
} from "./model.js";

/** Reads: `list` by exactly one index, `get` with optional reveal. */

type EventIndex =
  | "by_time"
  | "by_tenant_time"
  | "by_actor"
  | "by_tenant_actor"
  | "by_action"
  | "by_tenant_action"
  | "by_outcome"
  | "by_tenant_outcome";
type TargetIndex = "by_target" | "by_tenant_target";

/**
 * How one `list` call is served: the table and index to read, and the
 * equality prefix of that index (field and value, in index order). The
 * remaining index field is always `recordedAt`, which `from`/`to` bound.
 */
export type ListPlan = { eq: { field: string; value: string }[] } & (
  { table: "auditEvents"; index: EventIndex } | { table: "auditTargets"; index: TargetIndex }
);

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
  const scoped = f.tenant !== undefined;
  const eq = scoped ? [{ field: "tenantKey", value: f.tenant! }] : [];
  if (f.actor) {
    eq.push({ field: "actorKey", value: subjectKey(f.actor) });
    return { table: "auditEvents", index: scoped ? "by_tenant_actor" : "by_actor", eq };
  }
  if (f.target) {
    eq.push({ field: "targetKey", value: subjectKey(f.target) });
    return { table: "auditTargets", index: scoped ? "by_tenant_target" : "by_target", eq };
  }
  if (f.action) {
    eq.push({ field: "action", value: f.action });
    return { table: "auditEvents", index: scoped ? "by_tenant_action" : "by_action", eq };
  }
  if (f.outcome) {
    eq.push({ field: "outcome", value: f.outcome });
    return { table: "auditEvents", index: scoped ? "by_tenant_outcome" : "by_outcome", eq };
  }
  return { table: "auditEvents", index: scoped ? "by_tenant_time" : "by_time", eq };
}

/** The event as `get` and `list` return it: stored fields only, no index keys. */
export function toEvent(d: Doc<"auditEvents">): AuditEvent {
  return { id: d._id, ...pick(d, SERVED_EVENT_FIELDS) };
}

export function normalizeEventId(ctx: QueryCtx, id: string): Id<"auditEvents"> {
  const norm = ctx.db.normalizeId("auditEvents", id);
  if (norm === null)
    throw guardError(ErrorCode.INVALID_ARGUMENT, `${JSON.stringify(id)} is not an audit event id`);
  return norm;
}

/** The part of an index range builder a plan drives (field names come from the plan). */
type PlanRange = {
  eq(field: string, value: string): PlanRange;
  gte(field: "recordedAt", value: number): PlanRange;
  lte(field: "recordedAt", value: number): PlanRange;
};

/** One page of events matching the filter, newest first by default. */
export async function listPage(
  ctx: QueryCtx,
  filter: AuditListFilter,
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<AuditEvent>> {
  const plan = planList(filter);
  assertPageSize(paginationOpts.numItems);
  const order = filter.order ?? "desc";
  const range = (q: unknown) => {
    let b = q as PlanRange;
    for (const { field, value } of plan.eq) b = b.eq(field, value);
    if (filter.from !== undefined) b = b.gte("recordedAt", filter.from);
    if (filter.to !== undefined) b = b.lte("recordedAt", filter.to);
    return b as never;
  };
  if (plan.table === "auditEvents") {
    const res = await ctx.db
      .query("auditEvents")
      .withIndex(plan.index, range)
      .order(order)
      .paginate(paginationOpts);
    return { ...res, page: res.page.map(toEvent) };
  }
  const res = await ctx.db
    .query("auditTargets")
    .withIndex(plan.index, range)
    .order(order)
    .paginate(paginationOpts);
  const docs = await Promise.all(res.page.map((r) => ctx.db.get("auditEvents", r.event)));
  return { ...res, page: docs.filter((d): d is Doc<"auditEvents"> => d !== null).map(toEvent) };
}

/**
 * One event; with `reveal`, redacted values that were not erased are put
 * back, each only after its value matches the event's commitment (a value
 * edited in `auditSecrets`, or a secrets row moved from another event, is
 * listed in `mismatched` instead).
 */
export async function getEvent(
  ctx: QueryCtx,
  id: string,
  reveal: boolean,
): Promise<AuditEvent | null> {
  const doc = await ctx.db.get("auditEvents", normalizeEventId(ctx, id));
  if (doc === null) return null;
  let event = toEvent(doc);
  if (!reveal || doc.redacted === undefined) return event;
  const secret = await ctx.db
    .query("auditSecrets")
    .withIndex("by_event", (q) => q.eq("event", doc._id))
    .first();
  const erased: string[] = [];
  const mismatched: string[] = [];
  const salts: { path: string; salt: string }[] = [];
  for (const c of doc.redacted) {
    const s = secret?.values.find((x) => x.path === c.path);
    if (s === undefined) erased.push(c.path);
    else if (!(await secretMatches(s.salt, s.value, c.commitment))) mismatched.push(c.path);
    else {
      event = setPath(event, c.path, s.value);
      salts.push({ path: c.path, salt: s.salt });
    }
  }
  return { ...event, erased, ...(mismatched.length > 0 ? { mismatched } : {}), salts };
}
