import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { AuditLog, Confirmations, RateLimiter, MINUTE } from "convex-guard";
import { internal } from "../../src/component/_generated/api.js";
import { SEAL_DELAY_MS, SWEEP_SLACK_MS } from "../../src/component/maintenance/due.js";
import { ensureMaintenance } from "../../src/component/maintenance/kick.js";
import { capabilities } from "../../src/component/maintenance/registry.js";
import {
  BUSY_TICK_MS,
  KICK_DELAY_MS,
  LOST_TICK_GRACE_MS,
  MAX_TICK_DELAY_MS,
  TRUST_LEAD_MS,
} from "../../src/component/maintenance/schedule.js";
import { components, guardTest, runInGuard } from "../setup.js";

type T = ReturnType<typeof guardTest>;
const T0 = 1_700_000_000_000;
const actor = { type: "user", id: "u1" };
const audit = new AuditLog(components.guard);
const limiter = new RateLimiter(components.guard, {
  send: { kind: "token bucket", rate: 10, period: MINUTE },
});
const codes = new Confirmations(components.guard, {
  secret: "test-secret-0123456789-abcdefghij-KLMNOP",
});

/** The component's scheduled functions, oldest first. */
async function jobs(t: T) {
  return runInGuard(t, async (ctx) => {
    const all = await ctx.db.system.query("_scheduled_functions").collect();
    return all.map((j) => ({
      id: j._id,
      name: j.name,
      at: j.scheduledTime,
      state: j.state.kind,
      generation: (j.args[0] as { generation: string }).generation,
    }));
  });
}
const pending = async (t: T) => (await jobs(t)).filter((j) => j.state === "pending");

async function loopState(t: T) {
  return runInGuard(t, async (ctx) => ctx.db.query("guardState").collect());
}

/**
 * The pending ticks that would do work if they ran now: the one the state row
 * names (job and generation), or, with no row, the newest job (the loop's rule in
 * maintenance/kick.ts). Any other pending tick exits when it runs.
 */
async function liveTicks(t: T) {
  const [state] = await loopState(t);
  const all = await jobs(t);
  const newest = all[all.length - 1];
  return all.filter(
    (j) =>
      j.state === "pending" &&
      (state !== undefined
        ? j.id === state.nextTick?.jobId && j.generation === state.nextTick.generation
        : j === newest),
  );
}

/** At most one loop: at most one live tick. */
async function expectOneLoopAtMost(t: T) {
  expect((await liveTicks(t)).length).toBeLessThanOrEqual(1);
}

/** Everything the loop had to do is done: nothing pending, all sealed, the log verifies. */
async function expectSettled(t: T) {
  expect(await pending(t)).toEqual([]);
  expect((await loopState(t)).length).toBeLessThanOrEqual(1);
  const unsealed = await runInGuard(t, async (ctx) =>
    ctx.db
      .query("auditEvents")
      .withIndex("by_seq", (q) => q.eq("seq", undefined))
      .collect(),
  );
  expect(unsealed).toEqual([]);
  expect((await t.query((ctx) => audit.verify(ctx))).ok).toBe(true);
}

const log = (t: T, action = "x") =>
  t.mutation((ctx) => audit.log(ctx, { action, actor, outcome: "success" }));
const status = (t: T) => t.query((ctx) => ctx.runQuery(components.guard.maintenance.status, {}));

describe("maintenance loop", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  test("an unused deployment schedules nothing, and runNow with nothing due schedules nothing", async () => {
    const t = guardTest();
    const result = await t.mutation(async (ctx) =>
      ctx.runMutation(components.guard.maintenance.runNow, {}),
    );
    expect(result).toEqual({ rateLimits: 0, audit: 0, codes: 0, apiKeys: 0, more: false });
    expect(await jobs(t)).toEqual([]);
    expect((await status(t)).summary).toEqual(["idle: nothing is due"]);
  });

  test("a log schedules one tick for its seal; later logs neither write the state nor add ticks", async () => {
    const t = guardTest();
    await log(t);
    const [state] = await loopState(t);
    expect(await pending(t)).toEqual([
      expect.objectContaining({ name: "maintenance:tick", at: T0 + SEAL_DELAY_MS }),
    ]);
    for (let i = 0; i < 5; i++) await log(t);
    expect(await loopState(t)).toEqual([state]); // same document, same version
    expect(await pending(t)).toHaveLength(1);
  });

  test("earlier work moves the one pending tick earlier; later work leaves it alone", async () => {
    const t = guardTest();
    await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "a" }));
    const [first] = await pending(t);
    expect(first!.at).toBeGreaterThan(T0 + SEAL_DELAY_MS);
    await log(t);
    const after = await pending(t);
    expect(after).toEqual([expect.objectContaining({ at: T0 + SEAL_DELAY_MS })]);
    await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "b" }));
    expect(await pending(t)).toEqual(after);
    expect((await jobs(t)).filter((j) => j.state === "canceled")).toHaveLength(1);
  });

  test("limit, log, issue and consume, then finishAllScheduledFunctions returns with everything done", async () => {
    const t = guardTest();
    await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "alice" }));
    await log(t);
    const issued = await t.mutation((ctx) => codes.issue(ctx, { subject: "u1", action: "delete" }));
    if (!issued.ok) throw new Error("issue failed");
    await t.mutation((ctx) =>
      codes.consume(ctx, { subject: "u1", action: "delete", code: issued.code }),
    );
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectSettled(t);
    const rows = await runInGuard(t, async (ctx) => ({
      limits: await ctx.db.query("rateLimits").collect(),
      codes: await ctx.db.query("confirmationCodes").collect(),
    }));
    expect(rows).toEqual({ limits: [], codes: [] }); // swept once idle / expired
    // Idle again: a day passes without a single execution.
    const before = (await jobs(t)).length;
    vi.advanceTimersByTime(24 * 60 * MINUTE);
    await t.finishInProgressScheduledFunctions();
    expect((await jobs(t)).length).toBe(before);
    expect((await status(t)).state).toBe("idle");
  });

  test("two wake-ups in one transaction schedule one tick", async () => {
    const t = guardTest();
    await runInGuard(t, async (ctx) => {
      await ensureMaintenance(ctx, Date.now(), Date.now() + 5000);
      await ensureMaintenance(ctx, Date.now(), Date.now() + 5000);
      await ensureMaintenance(ctx, Date.now());
    });
    expect(await pending(t)).toHaveLength(1);
    expect(await loopState(t)).toHaveLength(1);
  });

  test("a host mutation that throws after waking the loop leaves no loop", async () => {
    const t = guardTest();
    await expect(
      t.mutation(async (ctx) => {
        await audit.log(ctx, { action: "x", actor, outcome: "success" });
        throw new Error("host failed");
      }),
    ).rejects.toThrow("host failed");
    expect(await jobs(t)).toEqual([]);
    expect(await loopState(t)).toEqual([]);
  });

  test("a cancelled tick is replaced by the first insert made once it is over a minute late", async () => {
    const t = guardTest();
    await log(t);
    const [job] = await jobs(t);
    await runInGuard(t, async (ctx) => ctx.scheduler.cancel(job!.id));
    expect((await status(t)).state).toBe("lost");
    // Seal work due after the recorded tick: the row is believed until the tick is over a minute late.
    await log(t, "believed");
    vi.setSystemTime(job!.at + LOST_TICK_GRACE_MS);
    await runInGuard(t, async (ctx) => ensureMaintenance(ctx, Date.now(), Date.now() + 5000));
    expect(await pending(t)).toEqual([]);
    vi.setSystemTime(job!.at + LOST_TICK_GRACE_MS + 1);
    await log(t, "after");
    expect(await pending(t)).toHaveLength(1);
    await expectOneLoopAtMost(t);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectSettled(t);
  });

  test("runNow heals a cancelled tick", async () => {
    const t = guardTest();
    await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "a" }));
    const [job] = await runInGuard(t, async (ctx) =>
      ctx.db.system.query("_scheduled_functions").collect(),
    );
    await runInGuard(t, async (ctx) => ctx.scheduler.cancel(job!._id));
    await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
    expect((await status(t)).state).toBe("scheduled");
    await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "b" }));
    expect(await pending(t)).toHaveLength(1);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectSettled(t);
    expect(await runInGuard(t, async (ctx) => ctx.db.query("rateLimits").collect())).toEqual([]);
  });

  test("a deleted state row is recreated without a second loop", async () => {
    const t = guardTest();
    await log(t);
    const del = () =>
      runInGuard(t, async (ctx) => {
        for (const s of await ctx.db.query("guardState").collect())
          await ctx.db.delete("guardState", s._id);
      });
    await del();
    await log(t, "second");
    await expectOneLoopAtMost(t);
    await del(); // and once more, with no insert after it: the pending tick adopts the loop
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectSettled(t);
    expect(await loopState(t)).toHaveLength(1);
    const ran = (await jobs(t)).filter((j) => j.state === "success");
    expect(ran.length).toBeLessThanOrEqual(4);
  });

  test("deleting the state row any number of times never leaves more than one live tick, and all work gets done", async () => {
    const t = guardTest();
    const del = () =>
      runInGuard(t, async (ctx) => {
        for (const s of await ctx.db.query("guardState").collect())
          await ctx.db.delete("guardState", s._id);
      });
    for (let round = 0; round < 5; round++) {
      await del();
      await expectOneLoopAtMost(t);
      // One transaction: inserts and several wake-ups, one of them earlier than the pending tick.
      await t.mutation(async (ctx) => {
        await audit.log(ctx, { action: `r${round}`, actor, outcome: "success" });
        await limiter.limit(ctx, "send", { key: `k${round}` });
        await codes.issue(ctx, { subject: `s${round}`, action: "delete" });
      });
      await runInGuard(t, async (ctx) => {
        await ensureMaintenance(ctx, Date.now(), Date.now() + 3000);
        await ensureMaintenance(ctx, Date.now());
      });
      expect(await pending(t)).toHaveLength(1); // not only one live: one scheduled at all
      await expectOneLoopAtMost(t);
      vi.advanceTimersByTime(round % 2 === 0 ? 500 : 4000); // sometimes a tick runs in between
      await t.finishInProgressScheduledFunctions();
      await expectOneLoopAtMost(t);
    }
    await del(); // and once more with nothing after it: the pending tick carries on alone
    await expectOneLoopAtMost(t);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectSettled(t);
    expect(await loopState(t)).toHaveLength(1);
    const rows = await runInGuard(t, async (ctx) => ({
      limits: await ctx.db.query("rateLimits").collect(),
      codes: await ctx.db.query("confirmationCodes").collect(),
    }));
    expect(rows).toEqual({ limits: [], codes: [] });
  });

  test("property: any sequence of work, wake-ups, deletions, cancellations and clock moves keeps at most one live tick, and a drain does all the work", async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("work" as const), wakeUps: fc.integer({ min: 0, max: 3 }) }),
      fc.constant({ kind: "delete" as const }),
      fc.constant({ kind: "cancel" as const }),
      fc.record({
        kind: fc.constant("advance" as const),
        ms: fc.constantFrom(100, 1500, SEAL_DELAY_MS, LOST_TICK_GRACE_MS + 5000, 10 * MINUTE),
      }),
      fc.constant({ kind: "runNow" as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 16 }), async (ops) => {
        vi.setSystemTime(T0);
        const t = guardTest();
        let i = 0;
        for (const o of ops) {
          i++;
          if (o.kind === "work") {
            await t.mutation(async (ctx) => {
              await audit.log(ctx, { action: `a${i}`, actor, outcome: "success" });
              await limiter.limit(ctx, "send", { key: `k${i}` });
            });
            if (o.wakeUps > 0)
              await runInGuard(t, async (ctx) => {
                for (let w = 0; w < o.wakeUps; w++)
                  await ensureMaintenance(ctx, Date.now(), Date.now() + 1000 * (w + 1));
              });
          } else if (o.kind === "delete") {
            await runInGuard(t, async (ctx) => {
              for (const r of await ctx.db.query("guardState").collect())
                await ctx.db.delete("guardState", r._id);
            });
          } else if (o.kind === "cancel") {
            const [job] = await pending(t);
            if (job) await runInGuard(t, async (ctx) => ctx.scheduler.cancel(job.id));
          } else if (o.kind === "advance") {
            vi.advanceTimersByTime(o.ms);
            await t.finishInProgressScheduledFunctions();
          } else {
            await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
          }
          // No edit but deletions and cancellations: never more than one tick scheduled at all.
          expect((await pending(t)).length).toBeLessThanOrEqual(1);
          await expectOneLoopAtMost(t);
        }
        // A cancelled tick with no later insert is healed by runNow, as status says.
        if ((await status(t)).state !== "scheduled")
          await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
        await t.finishAllScheduledFunctions(vi.runAllTimers);
        await expectSettled(t);
      }),
      { numRuns: 30 },
    );
  });

  describe("heals from any edit of its state row: status and the next insert or runNow agree", () => {
    type Ctx = Parameters<Parameters<typeof runInGuard>[1]>[0];
    type Edit = (ctx: Ctx) => Promise<void>;
    const row = async (ctx: Ctx) => (await ctx.db.query("guardState").first())!;
    const job = async (ctx: Ctx) =>
      (await ctx.db.system.get("_scheduled_functions", (await row(ctx)).nextTick!.jobId))!;
    const cancel: Edit = async (ctx) => ctx.scheduler.cancel((await job(ctx))._id);
    const patchTick =
      (f: (n: { generation: string; jobId: any; at: number }) => object): Edit =>
      async (ctx) => {
        const r = await row(ctx);
        await ctx.db.patch("guardState", r._id, {
          nextTick: { ...r.nextTick!, ...f(r.nextTick!) },
        });
      };
    const edits: [string, Edit][] = [
      ["the tick cancelled (dashboard)", cancel],
      [
        "the tick cancelled and its time moved a day ahead",
        async (ctx) => {
          await cancel(ctx);
          await patchTick((n) => ({ at: n.at + 24 * 60 * MINUTE }))(ctx);
        },
      ],
      ["another generation", patchTick(() => ({ generation: "edited" }))],
      ["the time moved an hour ahead", patchTick((n) => ({ at: n.at + 60 * MINUTE }))],
      ["the time moved into the past", patchTick(() => ({ at: 0 }))],
      [
        "the tick removed from the row",
        async (ctx) => ctx.db.patch("guardState", (await row(ctx))._id, { nextTick: undefined }),
      ],
      ["the row deleted", async (ctx) => ctx.db.delete("guardState", (await row(ctx))._id)],
      [
        "the row deleted and the tick cancelled",
        async (ctx) => {
          await cancel(ctx);
          await ctx.db.delete("guardState", (await row(ctx))._id);
        },
      ],
      [
        "the job id pointing at a finished tick",
        async (ctx) => {
          const done = await ctx.db.system
            .query("_scheduled_functions")
            .filter((q) => q.eq(q.field("state.kind"), "success"))
            .first();
          await patchTick(() => ({ jobId: done!._id }))(ctx);
        },
      ],
      [
        "a stray second row",
        async (ctx) => {
          await ctx.db.insert("guardState", { kind: "maintenance", startedAt: 0 });
        },
      ],
      [
        "a failure streak",
        async (ctx) =>
          ctx.db.patch("guardState", (await row(ctx))._id, {
            lastTick: { at: 0, processed: {}, failed: [], consecutiveFailures: 40 },
          }),
      ],
    ];

    /** Work due (a seal, an idle key, a code), one finished tick in the history, then the edit. */
    async function edited(edit: Edit) {
      const t = guardTest();
      await log(t, "first");
      vi.advanceTimersByTime(SEAL_DELAY_MS);
      await t.finishInProgressScheduledFunctions();
      await t.mutation(async (ctx) => {
        await audit.log(ctx, { action: "x", actor, outcome: "success" });
        await limiter.limit(ctx, "send", { key: "a" });
        await codes.issue(ctx, { subject: "u1", action: "delete" });
      });
      await runInGuard(t, edit);
      return t;
    }

    /** What status says matches what is scheduled: "scheduled" exactly when one live tick will run. */
    async function expectStatusTrue(t: T) {
      const s = await status(t);
      const live = await liveTicks(t);
      expect(live).toHaveLength(s.state === "scheduled" ? 1 : 0);
      if (s.state === "scheduled") expect(s.nextTickAt).toBe(live[0]!.at);
      return s;
    }

    test("the edit the adversarial suite made is refused: the row has no `running` field", async () => {
      const t = await edited(async () => {});
      await expect(
        runInGuard(t, async (ctx) =>
          // @ts-expect-error -- the field is not in the validator, so the type refuses it too
          ctx.db.patch("guardState", (await row(ctx))._id, { running: true }),
        ),
      ).rejects.toThrow(/running/);
    });

    test.each(edits)("%s: runNow reschedules, as status says", async (_, edit) => {
      const t = await edited(edit);
      const s = await expectStatusTrue(t);
      if (s.state !== "scheduled") expect(s.summary.join("\n")).toMatch(/runNow/);
      await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
      expect((await expectStatusTrue(t)).state).toBe("scheduled");
      expect(await pending(t)).toHaveLength(1);
      await t.finishAllScheduledFunctions(vi.runAllTimers);
      await expectSettled(t);
    });

    test.each(edits)("%s: the next insert reschedules, when status says", async (_, edit) => {
      const t = await edited(edit);
      const s = await expectStatusTrue(t);
      const recorded = (await loopState(t))[0]?.nextTick?.at;
      const checkedFrom = recorded === undefined ? 0 : recorded + LOST_TICK_GRACE_MS;
      if (s.state === "lost" && checkedFrom > Date.now()) {
        // Status names the time after which an insert checks the recorded tick.
        expect(s.summary.join("\n")).toContain(`made after ${new Date(checkedFrom).toISOString()}`);
        // Until then, work due after the recorded tick believes it.
        await runInGuard(t, async (ctx) => ensureMaintenance(ctx, Date.now(), recorded));
        vi.setSystemTime(checkedFrom);
        await runInGuard(t, async (ctx) => ensureMaintenance(ctx, Date.now(), recorded));
        expect(await liveTicks(t)).toEqual([]);
        vi.setSystemTime(checkedFrom + 1);
      }
      if (s.state !== "scheduled") await log(t, "next");
      expect((await expectStatusTrue(t)).state).toBe("scheduled");
      await expectOneLoopAtMost(t);
      await t.finishAllScheduledFunctions(vi.runAllTimers);
      await expectSettled(t);
    });
  });

  test("a crashing pass is recorded, backs off, and its work is done once it recovers", async () => {
    const t = guardTest();
    const original = capabilities.audit.pass;
    let failures = 0;
    capabilities.audit.pass = async (ctx) => {
      failures++;
      await ctx.db.insert("guardState", { kind: "maintenance", startedAt: -1 });
      throw new Error("injected failure (expected in this test)");
    };
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      await log(t);
      await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "a" }));
      vi.advanceTimersByTime(SEAL_DELAY_MS);
      await t.finishInProgressScheduledFunctions();
      expect(failures).toBe(1);
      expect(spy).toHaveBeenCalledWith(
        "convex-guard:",
        "the audit maintenance pass failed:",
        "injected failure (expected in this test)",
      );
      expect(await loopState(t)).toHaveLength(1); // the failed pass's insert was rolled back
      const s = await status(t);
      expect(s.summary).toContain(
        "last pass failed: audit: injected failure (expected in this test)",
      );
      expect(s.summary).toContain("audit: sealing is 1 events behind");
      const [next] = await pending(t);
      expect(next!.at).toBe(Date.now() + 2 * BUSY_TICK_MS); // backs off
      vi.advanceTimersByTime(2 * BUSY_TICK_MS);
      await t.finishInProgressScheduledFunctions();
      expect(failures).toBe(2);
      expect((await pending(t))[0]!.at).toBe(Date.now() + 4 * BUSY_TICK_MS);
    } finally {
      capabilities.audit.pass = original;
      spy.mockRestore();
    }
    await expectOneLoopAtMost(t);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectSettled(t);
    expect((await status(t)).lastTick?.consecutiveFailures).toBe(0);
  });

  describe("logging", () => {
    const setLevel = (t: T, level: "DEBUG" | "INFO" | "WARN" | "ERROR") =>
      t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.setLogLevel, { level }));
    /** A tick recorded in the row that will not run, found by the next wake-up (a warning). */
    async function lostTick(t: T) {
      await log(t);
      const [job] = await jobs(t);
      await runInGuard(t, async (ctx) => ctx.scheduler.cancel(job!.id));
      vi.setSystemTime(job!.at + LOST_TICK_GRACE_MS + 1);
      await log(t, "after");
    }

    test("WARN by default: a tick that did not run is reported, prefixed, and nothing below it", async () => {
      const t = guardTest();
      const spies = (["debug", "info", "warn", "error"] as const).map((m) =>
        vi.spyOn(console, m).mockImplementation(() => {}),
      );
      try {
        expect((await status(t)).logLevel).toBe("WARN");
        await lostTick(t);
        await t.finishAllScheduledFunctions(vi.runAllTimers);
        const [debug, info, warn] = spies;
        expect(warn!.mock.calls).toEqual([
          ["convex-guard:", expect.stringMatching(/maintenance tick recorded for .* did not run/)],
        ]);
        expect(debug!.mock.calls).toEqual([]);
        expect(info!.mock.calls).toEqual([]);
      } finally {
        for (const s of spies) s.mockRestore();
      }
    });

    test("the stored level filters: ERROR hides the warning, DEBUG shows the ticks", async () => {
      const t = guardTest();
      const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
      const debug = vi.spyOn(console, "debug").mockImplementation(() => {});
      try {
        await setLevel(t, "ERROR");
        expect((await status(t)).logLevel).toBe("ERROR");
        await lostTick(t);
        expect(warn).not.toHaveBeenCalled();
        await setLevel(t, "DEBUG");
        await t.finishAllScheduledFunctions(vi.runAllTimers);
        expect(debug).toHaveBeenCalledWith(
          "convex-guard:",
          "maintenance tick done",
          expect.anything(),
        );
        await expectSettled(t);
      } finally {
        warn.mockRestore();
        debug.mockRestore();
      }
    });

    test("setLogLevel refuses an unknown level and changes nothing", async () => {
      const t = guardTest();
      await expect(
        t.mutation((ctx) =>
          ctx.runMutation(components.guard.maintenance.setLogLevel, { level: "LOUD" as "WARN" }),
        ),
      ).rejects.toThrow(/Validator error/); // Convex's own check of the argument
      expect(await loopState(t)).toEqual([]);
    });
  });

  test("a stale tick exits without doing anything", async () => {
    const t = guardTest();
    await log(t);
    await runInGuard(t, async (ctx) => {
      await ctx.scheduler.runAfter(0, internal.maintenance.tick, { generation: "stale" });
    });
    vi.advanceTimersByTime(1);
    await t.finishInProgressScheduledFunctions();
    const unsealed = await runInGuard(t, async (ctx) =>
      ctx.db
        .query("auditEvents")
        .withIndex("by_seq", (q) => q.eq("seq", undefined))
        .collect(),
    );
    expect(unsealed).toHaveLength(1); // the stale tick sealed nothing
    expect(await pending(t)).toHaveLength(1);
  });

  test("under steady traffic the sealer stays armed: one tick per seal interval, no wake-up writes", async () => {
    const t = guardTest();
    await log(t);
    const writes: number[] = [];
    for (let i = 0; i < 60; i++) {
      vi.advanceTimersByTime(1000);
      await t.finishInProgressScheduledFunctions();
      const before = (await loopState(t))[0]!;
      await log(t, `e${i}`);
      const after = (await loopState(t))[0]!;
      if (after.nextTick?.generation !== before.nextTick?.generation) writes.push(i);
    }
    expect(writes).toEqual([]);
    const ticks = (await jobs(t)).filter((j) => j.state === "success").length;
    expect(ticks).toBeLessThanOrEqual(60_000 / SEAL_DELAY_MS + 1);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectSettled(t);
  });

  test("idle rate-limit keys are swept together, one tick per slack window", async () => {
    const t = guardTest();
    for (let i = 0; i < 20; i++) {
      await t.mutation((ctx) => limiter.limit(ctx, "send", { key: `k${i}` }));
      vi.setSystemTime(Date.now() + 1000);
    }
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const ran = (await jobs(t)).filter((j) => j.state === "success").length;
    expect(ran).toBeLessThanOrEqual(2);
    expect(SWEEP_SLACK_MS).toBeGreaterThan(20_000);
    expect(await runInGuard(t, async (ctx) => ctx.db.query("rateLimits").collect())).toEqual([]);
  });

  test("a wake-up schedules no sooner than KICK_DELAY_MS", async () => {
    const t = guardTest();
    await runInGuard(t, async (ctx) => ensureMaintenance(ctx, Date.now(), Date.now() - 5));
    expect((await pending(t))[0]!.at).toBe(T0 + KICK_DELAY_MS);
  });

  test("work due beyond a JavaScript timer's range gets a tick at most MAX_TICK_DELAY_MS ahead", async () => {
    const t = guardTest();
    await runInGuard(t, async (ctx) =>
      ensureMaintenance(ctx, Date.now(), Date.now() + 400 * 24 * 60 * MINUTE),
    );
    expect((await pending(t))[0]!.at).toBe(T0 + MAX_TICK_DELAY_MS);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await pending(t)).toEqual([]);
  });
});

test("docs/maintenance.md states the loop's delays as the constants have them", async () => {
  const { readFileSync } = await import("node:fs");
  const doc = readFileSync(new URL("../../docs/maintenance.md", import.meta.url), "utf8");
  const { FOLD_DELAY_MS } = await import("../../src/component/rateLimits/async.js");
  const { STATS_DELAY_MS } = await import("../../src/component/rateLimits/stats.js");
  const lines = doc.replace(/\s+/g, " ");
  expect(lines).toContain(`every call (its seal, ${SEAL_DELAY_MS / 1000} s later)`);
  expect(lines).toContain(`for the fold ${FOLD_DELAY_MS / 1000} s later (\`FOLD_DELAY_MS\`)`);
  expect(lines).toContain(`an hour is folded ${STATS_DELAY_MS / MINUTE} minutes after it ends`);
  expect(lines).toContain(`at least ${TRUST_LEAD_MS / 1000} s ahead`);
  expect(LOST_TICK_GRACE_MS).toBe(MINUTE);
  expect(lines).toContain("more than a minute late (`LOST_TICK_GRACE_MS`)");
});
