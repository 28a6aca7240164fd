/**
 * The hourly cron publishes the audit head outside the deployment; checking
 * the log against the published head catches what `verify` alone cannot: an
 * admin who deletes an event and re-seals the whole log consistently.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { makeFunctionReference } from "convex/server";
import { newApp, runInGuard, type App } from "../harness.js";
import { internal } from "./_generated/api.js";
import crons from "./crons.js";
import { audit } from "./lib/guard.js";
import type { AuditVerifyResult } from "convex-guard";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 0, 5, 9, 0, 0));
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  delete process.env.AUDIT_ANCHOR_WEBHOOK_URL;
});

/** The function the "publish audit head" cron runs, as the scheduler would call it. */
function cronJob() {
  const job = (crons as unknown as { crons: Record<string, { name: string; schedule: unknown }> })
    .crons["publish audit head"]!;
  expect(job.schedule).toEqual({ type: "interval", hours: 1 });
  return makeFunctionReference<"action">(job.name);
}

async function logSignUps(t: App, ids: string[]) {
  for (const id of ids)
    await t.mutation((ctx) =>
      audit.log(ctx, {
        action: "user.signUp",
        actor: { type: "user", id },
        outcome: "success",
        metadata: {},
      }),
    );
}

async function verifyAll(t: App) {
  for (let cursor: string | null = null; ;) {
    const r: AuditVerifyResult = await t.query(internal.auditAnchors.verifyAgainstPublished, {
      cursor,
    });
    if (r.done) return r;
    cursor = r.cursor;
  }
}

describe("publishing the audit head", () => {
  test("the cron appends the head to publishedHeads; verify against it passes, and fails after a consistent rewrite", async () => {
    const t = newApp();
    await logSignUps(t, ["alice", "bob", "mallory"]);
    expect(await t.action(cronJob(), {})).toEqual({ published: "table" });
    expect(await t.action(cronJob(), {})).toEqual({ published: "unchanged" }); // insert only, no repeat
    const published = (await t.query(internal.auditAnchors.latestPublished, {}))!;
    const head = (await t.query(internal.auditAnchors.currentHead, {}))!;
    expect(published).toMatchObject({ anchor: head.anchor, n: head.n, sealedAt: head.sealedAt });
    expect(published.anchor).toMatch(/^cg1:\d+:[0-9a-f]{64}$/);

    // Untouched log: verifies with and without the anchor.
    expect(await verifyAll(t)).toMatchObject({ ok: true, break: null });

    // An admin deletes mallory's sign-up and re-seals everything with the component's own sealer.
    vi.advanceTimersByTime(60_000);
    await runInGuard(t, async (ctx) => {
      for (const s of await ctx.db.query("auditSeals").collect()) await ctx.db.delete(s._id);
      for (const e of await ctx.db.query("auditEvents").collect()) {
        if (e.actor.id === "mallory") await ctx.db.delete(e._id);
        else await ctx.db.patch(e._id, { seq: undefined });
      }
    });
    await t.mutation((ctx) => audit.seal(ctx));
    // The rewritten chain is consistent: verify without an anchor cannot tell.
    expect(await t.query((ctx) => audit.verify(ctx))).toMatchObject({ ok: true, break: null });
    // Against the published head it fails.
    const r = await verifyAll(t);
    expect(r.ok).toBe(false);
    expect(r.break?.kind).toBe("anchor_mismatch");
  });

  test("with AUDIT_ANCHOR_WEBHOOK_URL set, the head is POSTed there instead", async () => {
    const t = newApp();
    await logSignUps(t, ["alice"]);
    process.env.AUDIT_ANCHOR_WEBHOOK_URL = "https://anchors.example.com/convex-guard";
    const posted: { url: string; init: RequestInit }[] = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      posted.push({ url, init });
      return new Response(null, { status: posted.length === 1 ? 204 : 503 });
    });
    expect(await t.action(cronJob(), {})).toEqual({ published: "webhook" });
    const head = (await t.query(internal.auditAnchors.currentHead, {}))!;
    expect(posted).toHaveLength(1);
    expect(posted[0]!.url).toBe("https://anchors.example.com/convex-guard");
    expect(posted[0]!.init.method).toBe("POST");
    expect(JSON.parse(posted[0]!.init.body as string)).toEqual({
      kind: "convex-guard.audit.head",
      anchor: head.anchor,
      n: head.n,
      sealedAt: head.sealedAt,
    });
    expect(await t.query(internal.auditAnchors.latestPublished, {})).toBeNull();
    // A store that refuses the head makes the run fail loudly.
    await expect(t.action(cronJob(), {})).rejects.toThrow(/HTTP 503/);
  });
});
