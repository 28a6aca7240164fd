/**
 * Publishing the audit log's head outside the deployment. A dashboard admin
 * can rewrite the whole seal chain consistently (every hash input is
 * public), so only a head kept somewhere they cannot rewrite proves history.
 * `crons.ts` runs `publishHead` hourly: it seals what is pending (which also
 * writes the hourly empty seal), reads `audit.head` through a query and
 * posts it to `AUDIT_ANCHOR_WEBHOOK_URL` when that is set (an append-only
 * store of your choice: a transparency log, object storage with a retention
 * lock, a channel another team owns). Without it, it appends the head to
 * `publishedHeads`, which stands in for that store in tests and the demo:
 * rows are only ever inserted.
 */
import type { AuditHead, AuditVerifyResult } from "convex-guard";
import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { internalAction, internalMutation, internalQuery } from "./_generated/server.js";
import { audit } from "./lib/guard.js";

const vPublished = v.object({ anchor: v.string(), n: v.number(), sealedAt: v.number() });

/** Seals pending events (and the hourly empty seal), then returns the head. */
export const sealAndReadHead = internalMutation({
  args: {},
  handler: async (ctx) => {
    await audit.seal(ctx);
    const head = await audit.head(ctx);
    return head === null ? null : { anchor: head.anchor, n: head.n, sealedAt: head.sealedAt };
  },
});

/** The head as it is now, read-only. */
export const currentHead = internalQuery({
  args: {},
  handler: async (ctx): Promise<AuditHead> => audit.head(ctx),
});

/** Appends a head to `publishedHeads` unless it is the newest one already there (insert only). */
export const recordHead = internalMutation({
  args: vPublished.fields,
  handler: async (ctx, head): Promise<boolean> => {
    const newest = await ctx.db.query("publishedHeads").order("desc").first();
    if (newest?.anchor === head.anchor) return false;
    await ctx.db.insert("publishedHeads", { ...head, publishedAt: Date.now() });
    return true;
  },
});

/** What the cron runs: publishes the current head to the webhook, or to `publishedHeads`. */
export const publishHead = internalAction({
  args: {},
  handler: async (ctx): Promise<{ published: "webhook" | "table" | "unchanged" | "none" }> => {
    const head = await ctx.runMutation(internal.auditAnchors.sealAndReadHead, {});
    if (head === null) return { published: "none" };
    const url = process.env.AUDIT_ANCHOR_WEBHOOK_URL;
    if (url === undefined || url === "") {
      const added = await ctx.runMutation(internal.auditAnchors.recordHead, head);
      return { published: added ? "table" : "unchanged" };
    }
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "convex-guard.audit.head", ...head }),
    });
    // A failed publication throws, so it shows in the logs; the next run publishes a newer head.
    if (!res.ok) throw new Error(`publishing the audit head failed: HTTP ${res.status}`);
    return { published: "webhook" };
  },
});

/** The newest head in `publishedHeads` (what a checker fetches from the store). */
export const latestPublished = internalQuery({
  args: {},
  handler: async (ctx) => ctx.db.query("publishedHeads").order("desc").first(),
});

/**
 * One page of `verify` against the newest published head: fails with
 * `anchor_mismatch` when the chain no longer extends it. Call again with
 * `cursor` while `done` is false.
 */
export const verifyAgainstPublished = internalQuery({
  args: { cursor: v.optional(v.union(v.string(), v.null())) },
  handler: async (ctx, { cursor }): Promise<AuditVerifyResult> => {
    const newest = await ctx.db.query("publishedHeads").order("desc").first();
    return audit.verify(ctx, { cursor, anchor: newest?.anchor });
  },
});
