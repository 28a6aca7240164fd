/**
 * Queries behind an admin audit dashboard. Admins and above only. Each filter
 * is served by an index inside the component, so a page costs its size plus a
 * constant whatever the log's size; `usePaginatedQuery(api.auditDashboard.list, filters)`
 * consumes `list` directly.
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { userQuery, requirePermission } from "./lib/functions.js";
import { audit } from "./lib/guard.js";

const entity = v.object({ type: v.string(), id: v.string() });

/**
 * One page of events, newest first by default. Filter by ONE of actor,
 * target, action or outcome, each optionally within [from, to] (recordedAt,
 * ms). Unsupported combinations are an INVALID_ARGUMENT error from the
 * component, never a silent full scan.
 */
export const list = userQuery({
  args: {
    actor: v.optional(entity),
    target: v.optional(entity),
    action: v.optional(v.string()),
    outcome: v.optional(v.union(v.literal("success"), v.literal("failure"), v.literal("denied"))),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    order: v.optional(v.union(v.literal("asc"), v.literal("desc"))),
    paginationOpts: paginationOptsValidator,
  },
  handler: async (ctx, args) => {
    await requirePermission(ctx, "audit.read");
    return audit.list(ctx, args);
  },
});

/** Checks the log's integrity one bounded page at a time (pass back `cursor` until done). */
export const verify = userQuery({
  args: { cursor: v.optional(v.union(v.string(), v.null())) },
  handler: async (ctx, { cursor }) => {
    await requirePermission(ctx, "audit.read");
    return audit.verify(ctx, { cursor });
  },
});

/** The latest seal hash, to anchor outside Convex (e.g. post it to another system daily). */
export const head = userQuery({
  args: {},
  handler: async (ctx) => {
    await requirePermission(ctx, "audit.read");
    return audit.head(ctx);
  },
});
