/**
 * What a host's own test suite sees of convex-guard's background work: after
 * using every capability, `finishAllScheduledFunctions` returns, nothing is
 * left scheduled in the component, every audit event is sealed and the log
 * verifies. The clock is pinned with `vi.setSystemTime` so windows are exact.
 */
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { newApp, runInGuard } from "../harness.js";
import { audit, confirmations, limiter } from "./lib/guard.js";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 0, 5, 9, 0, 0));
});
afterEach(() => vi.useRealTimers());

test("limit, log, issue and consume, then finishAllScheduledFunctions settles everything", async () => {
  const t = newApp();
  const first = await t.mutation((ctx) => limiter.limit(ctx, "sendMessage", { key: "alice" }));
  expect(first.ok).toBe(true);
  await t.mutation((ctx) =>
    audit.log(ctx, {
      action: "user.signUp",
      actor: { type: "user", id: "alice" },
      outcome: "success",
      metadata: {},
    }),
  );
  const issued = await t.mutation((ctx) =>
    confirmations.issue(ctx, { subject: "alice", action: "user.delete" }),
  );
  if (!issued.ok) throw new Error("issue was refused");
  const used = await t.mutation((ctx) =>
    confirmations.consume(ctx, { subject: "alice", action: "user.delete", code: issued.code }),
  );
  expect(used.ok).toBe(true);

  // Runs everything the component scheduled, moving the fake clock as far as needed (here
  // through the audit log's 365-day retention), until nothing is left.
  await t.finishAllScheduledFunctions(vi.runAllTimers);

  const left = await runInGuard(t, async (ctx) => ({
    pending: (await ctx.db.system.query("_scheduled_functions").collect()).filter(
      (j: { state: { kind: string } }) => j.state.kind === "pending",
    ),
    unsealed: await ctx.db
      .query("auditEvents")
      .withIndex("by_seq", (q: any) => q.eq("seq", undefined))
      .collect(),
  }));
  expect(left).toEqual({ pending: [], unsealed: [] });
  const verified = await t.query((ctx) => audit.verify(ctx));
  expect(verified.ok).toBe(true);
  expect(verified.checkedSeals).toBeGreaterThan(0);
});
