import { convexTest } from "convex-test";
import { AuditLog, DAY } from "convex-guard";
import guard from "convex-guard/test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { components } from "../setup.js";

/**
 * `settle(t)` runs what is due at the current fake time; draining every timer
 * jumps the clock to the last thing ever scheduled. With a year's retention
 * that is where the events under test are deleted.
 */
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const audit = new AuditLog(components.guard, { retention: { days: 365 } });
const event = {
  action: "user.login",
  actor: { type: "user", id: "alice" },
  outcome: "success" as const,
};

function setup() {
  const t = convexTest(undefined, { "./host/_generated/api.ts": async () => ({}) });
  guard.register(t);
  return t;
}
const events = (t: ReturnType<typeof setup>) =>
  t.query(
    async (ctx) => (await audit.list(ctx, { paginationOpts: { numItems: 10, cursor: null } })).page,
  );

describe("convex-guard/test settle", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  test("seals the logged events now, keeps the clock, and leaves next year's retention scheduled", async () => {
    const t = setup();
    await t.mutation((ctx) => audit.log(ctx, event));
    await t.mutation((ctx) => audit.log(ctx, event));
    const result = await guard.settle(t);
    expect(Date.now()).toBe(T0);
    expect(result.processed.audit).toBeGreaterThan(0);
    const page = await events(t);
    expect(page).toHaveLength(2);
    expect(page.every((e) => e.seq !== undefined)).toBe(true);
    expect((await t.query((ctx) => audit.verify(ctx))).ok).toBe(true);
    expect(vi.getTimerCount()).toBeGreaterThan(0); // the retention tick is still pending
  });

  test("finishAllScheduledFunctions(vi.runAllTimers) jumps past the retention horizon instead", async () => {
    const t = setup();
    await t.mutation((ctx) => audit.log(ctx, event));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(Date.now()).toBeGreaterThan(T0 + 365 * DAY);
    expect(await events(t)).toEqual([]);
  });
});
