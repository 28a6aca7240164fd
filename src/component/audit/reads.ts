import type { IndexRange, PaginationOptions, PaginationResult } from "convex/server";
import type { Doc, Id } from "../_generated/dataModel.js";
import type { QueryCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { paginateChecked } from "../lib/paginate.js";
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
  type Outcome,
} from "./model.js";

/** Reads: `list` by exactly one index, `get` with optional reveal. */

/**
 * How one `list` call is served: the index to read and the values of its
 * equality prefix, in index order. The remaining index field is always
 * `recordedAt`, which `from`/`to` bound. `listPage` turns each plan into a
 * real `withIndex` call, so an index or field renamed in tables.ts breaks
 * the build here.
 */
export type ListPlan =
  | { index: "by_time" }
  | { index: "by_tenant_time"; tenantKey: string }
  | { index: "by_actor"; actorKey: string }
  | { index: "by_tenant_actor"; tenantKey: string; actorKey: string }
  | { index: "by_action"; action: string }
  | { index: "by_tenant_action"; tenantKey: string; action: string }
  | { index: "by_outcome"; outcome: Outcome }
  | { index: "by_tenant_outcome"; tenantKey: string; outcome: Outcome }
  | { index: "by_target"; targetKey: string }
  | { index: "by_tenant_target"; tenantKey: string; targetKey: string };

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
  const t = f.tenant;
  if (f.actor !== undefined) {
    const actorKey = subjectKey(f.actor);
    return t === undefined
      ? { index: "by_actor", actorKey }
      : { index: "by_tenant_actor", tenantKey: t, actorKey };
  }
  if (f.target !== undefined) {
    const targetKey = subjectKey(f.target);
    return t === undefined
      ? { index: "by_target", targetKey }
      : { index: "by_tenant_target", tenantKey: t, targetKey };
  }
  if (f.action !== undefined) {
    const action = f.action;
    return t === undefined
      ? { index: "by_action", action }
      : { index: "by_tenant_action", tenantKey: t, action };
  }
  if (f.outcome !== undefined) {
    const outcome = f.outcome;
    return t === undefined
      ? { index: "by_outcome", outcome }
      : { index: "by_tenant_outcome", tenantKey: t, outcome };
  }
  return t === undefined ? { index: "by_time" } : { index: "by_tenant_time", tenantKey: t };
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

/** The `recordedAt` bounds of a list filter, after the index's equality prefix. */
type TimeBounds = { from?: number | undefined; to?: number | undefined };
/** An index range builder whose next field is `recordedAt` (a field renamed in tables.ts no longer fits). */
type TimeRange = IndexRange & {
  gte(field: "recordedAt", value: number): IndexRange & UpperTime;
  lte(field: "recordedAt", value: number): IndexRange;
};
type UpperTime = { lte(field: "recordedAt", value: number): IndexRange };

function within(q: TimeRange, { from, to }: TimeBounds): IndexRange {
  const lower = from === undefined ? q : q.gte("recordedAt", from);
  return to === undefined ? lower : lower.lte("recordedAt", to);
}

type TargetPlan = Extract<ListPlan, { index: "by_target" | "by_tenant_target" }>;

/** The events query of a plan on `auditEvents`. */
function eventsQuery(ctx: QueryCtx, plan: Exclude<ListPlan, TargetPlan>, time: TimeBounds) {
  const events = ctx.db.query("auditEvents");
  switch (plan.index) {
    case "by_time":
      return events.withIndex("by_time", (q) => within(q, time));
    case "by_tenant_time":
      return events.withIndex("by_tenant_time", (q) =>
        within(q.eq("tenantKey", plan.tenantKey), time),
      );
    case "by_actor":
      return events.withIndex("by_actor", (q) => within(q.eq("actorKey", plan.actorKey), time));
    case "by_tenant_actor":
      return events.withIndex("by_tenant_actor", (q) =>
        within(q.eq("tenantKey", plan.tenantKey).eq("actorKey", plan.actorKey), time),
      );
    case "by_action":
      return events.withIndex("by_action", (q) => within(q.eq("action", plan.action), time));
    case "by_tenant_action":
      return events.withIndex("by_tenant_action", (q) =>
        within(q.eq("tenantKey", plan.tenantKey).eq("action", plan.action), time),
      );
    case "by_outcome":
      return events.withIndex("by_outcome", (q) => within(q.eq("outcome", plan.outcome), time));
    case "by_tenant_outcome":
      return events.withIndex("by_tenant_outcome", (q) =>
        within(q.eq("tenantKey", plan.tenantKey).eq("outcome", plan.outcome), time),
      );
  }
}

/** The target rows a target plan reads. */
function targetsQuery(ctx: QueryCtx, plan: TargetPlan, time: TimeBounds) {
  const targets = ctx.db.query("auditTargets");
  return plan.index === "by_target"
    ? targets.withIndex("by_target", (q) => within(q.eq("targetKey", plan.targetKey), time))
    : targets.withIndex("by_tenant_target", (q) =>
        within(q.eq("tenantKey", plan.tenantKey).eq("targetKey", plan.targetKey), time),
      );
}

/** One page of events matching the filter, newest first by default. */
export async function listPage(
  ctx: QueryCtx,
  filter: AuditListFilter,
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<AuditEvent>> {
  const plan = planList(filter);
  assertPageSize(paginationOpts.numItems);
  const order = filter.order ?? "desc";
  const time = { from: filter.from, to: filter.to };
  if (plan.index !== "by_target" && plan.index !== "by_tenant_target") {
    const res = await paginateChecked(eventsQuery(ctx, plan, time).order(order), paginationOpts);
    return { ...res, page: res.page.map(toEvent) };
  }
  const res = await paginateChecked(targetsQuery(ctx, plan, time).order(order), paginationOpts);
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
