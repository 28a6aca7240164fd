import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { passes } from "../../src/component/maintenance.js";
import {
  BUSY_TICK_MS,
  IDLE_TICK_MS,
  ensureMaintenance,
} from "../../src/component/maintenance/kick.js";
import { components, guardTest, runInGuard } from "../setup.js";

describe("maintenance loop", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
  });
  afterEach(() => vi.useRealTimers());

  async function scheduled(t: ReturnType<typeof guardTest>) {
    return runInGuard(t, async (ctx) => {
      const jobs = await ctx.db.system.query("_scheduled_functions").collect();
      return jobs.map((j) => ({ name: j.name, at: j.scheduledTime, state: j.state.kind }));
    });
  }

  test("starts exactly once, however many insert paths call it", async () => {
    const t = guardTest();
    for (let i = 0; i < 3; i++) {
      await runInGuard(t, async (ctx) => ensureMaintenance(ctx, Date.now()));
    }
    const state = await runInGuard(t, async (ctx) => ctx.db.query("guardState").collect());
    expect(state).toHaveLength(1);
    const jobs = await scheduled(t);
    expect(jobs).toEqual([
      { name: "maintenance:tick", at: Date.now() + BUSY_TICK_MS, state: "pending" },
    ]);
  });

  test("a host mutation that throws after starting the loop leaves no loop", async () => {
    const t = guardTest();
    await expect(
      runInGuard(t, async (ctx) => {
        await ensureMaintenance(ctx, Date.now());
        throw new Error("host failed");
      }),
    ).rejects.toThrow("host failed");
    expect(await scheduled(t)).toEqual([]);
  });

  test("each tick schedules the next one: soon while work remains, else after the idle interval", async () => {
    const t = guardTest();
    await runInGuard(t, async (ctx) => ensureMaintenance(ctx, Date.now()));
    const start = Date.now();
    vi.advanceTimersByTime(BUSY_TICK_MS);
    await t.finishInProgressScheduledFunctions();
    const jobs = await scheduled(t);
    expect(jobs.filter((j) => j.state === "pending")).toEqual([
      { name: "maintenance:tick", at: start + BUSY_TICK_MS + IDLE_TICK_MS, state: "pending" },
    ]);
    expect(jobs.filter((j) => j.state === "success")).toHaveLength(1);
  });

  test("runNow does one pass and schedules nothing", async () => {
    const t = guardTest();
    const result = await t.mutation(async (ctx) =>
      ctx.runMutation(components.guard.maintenance.runNow, {}),
    );
    expect(result.more).toBe(false);
    expect(await scheduled(t)).toEqual([]);
  });

  test("a failing pass rolls back only its own writes, and the loop keeps running", async () => {
    const t = guardTest();
    await runInGuard(t, async (ctx) => ensureMaintenance(ctx, Date.now()));
    const original = passes.codes;
    let failures = 0;
    passes.codes = async (ctx) => {
      failures++;
      await ctx.db.insert("guardState", { kind: "maintenance", startedAt: -1 });
      throw new Error("injected failure (expected in this test)");
    };
    try {
      vi.advanceTimersByTime(BUSY_TICK_MS);
      await t.finishInProgressScheduledFunctions();
    } finally {
      passes.codes = original;
    }
    expect(failures).toBe(1);
    const state = await runInGuard(t, async (ctx) => ctx.db.query("guardState").collect());
    expect(state).toHaveLength(1); // the failed pass's insert was rolled back
    const jobs = await runInGuard(t, async (ctx) =>
      ctx.db.system.query("_scheduled_functions").collect(),
    );
    expect(jobs.filter((j) => j.state.kind === "pending")).toHaveLength(1); // the next tick is scheduled
    vi.advanceTimersByTime(IDLE_TICK_MS);
    await t.finishInProgressScheduledFunctions();
    const after = await runInGuard(t, async (ctx) =>
      ctx.db.system.query("_scheduled_functions").collect(),
    );
    expect(after.filter((j) => j.state.kind === "success")).toHaveLength(2);
  });
});
