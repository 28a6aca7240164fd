/**
 * Blocks: a blocked key is denied with reason "blocked" until the block ends,
 * listed for an admin page, audited, costs the unblocked path nothing, and
 * bad input changes nothing.
 */
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { AuditLog, HOUR, MINUTE, RateLimiter, isRateLimitError } from "convex-guard";
import { dumpComponent } from "../codes/helpers.js";
import { components, guardTest, measure, measureQuery, rw } from "../setup.js";

const limiter = new RateLimiter(components.guard, {
  sendMessage: { kind: "sliding window", rate: 10, period: MINUTE },
  hot: { kind: "token bucket", rate: 100, period: MINUTE, shards: 4 },
  hotAsync: { kind: "token bucket", rate: 100, period: MINUTE, applyUpdates: "asynchronously" },
  daily: { kind: "quota", limit: 5, per: "day" },
});
const hot8 = { kind: "token bucket", rate: 100, period: MINUTE, shards: 8 } as const;
const audit = new AuditLog(components.guard);
const T0 = 1_764_000_000_000;

describe("blocks", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  test("a blocked key is denied with reason and retryAfter until the block ends", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "spammer" }));
    await t.mutation(async (ctx) =>
      limiter.block(ctx, "sendMessage", { key: "spammer", until: T0 + HOUR, reason: "abuse" }),
    );
    const send = (key: string) =>
      t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key }));
    expect(await send("spammer")).toEqual({ ok: false, reason: "blocked", retryAfter: HOUR });
    expect(await send("someone else")).toEqual({ ok: true });
    expect(
      await t.query(async (ctx) => limiter.check(ctx, "sendMessage", { key: "spammer" })),
    ).toMatchObject({ ok: false, reason: "blocked" });
    const err = await t
      .mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "spammer", throws: true }))
      .catch((e: unknown) => e);
    expect(isRateLimitError(err)).toBe(true);
    expect((err as ConvexError<{ reason: string; retryAfter: number }>).data).toMatchObject({
      kind: "RateLimited",
      reason: "blocked",
      retryAfter: HOUR,
    });
    const all = await t.mutation(async (ctx) =>
      limiter.limitAll(ctx, [
        { name: "sendMessage", key: "spammer" },
        { name: "daily", key: "spammer" },
      ]),
    );
    expect(all.ok).toBe(false);
    expect(all.results[0]).toMatchObject({ ok: false, reason: "blocked" });
    // getValue shows the block (an admin page or the React hook can say why), until it ends.
    const value = () =>
      t.query(async (ctx) => limiter.getValue(ctx, "sendMessage", { key: "spammer" }));
    expect((await value()).blocked).toEqual({ until: T0 + HOUR, reason: "abuse" });
    vi.setSystemTime(T0 + HOUR);
    expect((await value()).blocked).toBeUndefined();
    expect(await send("spammer")).toEqual({ ok: true });
  });

  test("a block outlives the idle-key sweep and an asynchronous fold", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "hotAsync", { key: "k" }));
    await t.mutation(async (ctx) =>
      limiter.block(ctx, "hotAsync", { key: "k", until: T0 + 2 * HOUR }),
    );
    await t.mutation(async (ctx) => limiter.block(ctx, "daily", { key: "new", until: T0 + HOUR }));
    // Past the fold delay and the quota document's idle time: a maintenance
    // pass folds the asynchronous call and sweeps idle keys, not blocked ones.
    vi.setSystemTime(T0 + HOUR - MINUTE);
    for (let i = 0; i < 3; i++) {
      await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
      vi.advanceTimersByTime(1000);
    }
    expect(
      await t.mutation(async (ctx) => limiter.limit(ctx, "hotAsync", { key: "k" })),
    ).toMatchObject({ ok: false, reason: "blocked" });
    expect(
      await t.mutation(async (ctx) => limiter.limit(ctx, "daily", { key: "new" })),
    ).toMatchObject({ ok: false, reason: "blocked", retryAfter: MINUTE - 3000 });
  });

  test("every shard carries the block; listBlocks pages each key once; unblock lifts it", async () => {
    const t = guardTest();
    for (const key of ["a", "b", "c"]) {
      await t.mutation(async (ctx) =>
        limiter.block(ctx, "hot", { key, until: T0 + (key === "b" ? 2 : 1) * HOUR }),
      );
    }
    for (let i = 0; i < 8; i++) {
      const r = await t.mutation(async (ctx) => limiter.limit(ctx, "hot", { key: "a" }));
      expect(r).toMatchObject({ ok: false, reason: "blocked" });
    }
    const first = await t.query(async (ctx) =>
      limiter.listBlocks(ctx, "hot", { numItems: 2, cursor: null }),
    );
    expect(first.page.map((b) => b.key)).toEqual(["a", "c"]);
    const second = await t.query(async (ctx) =>
      limiter.listBlocks(ctx, "hot", { numItems: 2, cursor: first.continueCursor }),
    );
    expect(second.page).toEqual([{ key: "b", until: T0 + 2 * HOUR }]);
    expect(await t.mutation(async (ctx) => limiter.unblock(ctx, "hot", { key: "a" }))).toEqual({
      unblocked: true,
    });
    for (let i = 0; i < 8; i++) {
      expect(await t.mutation(async (ctx) => limiter.limit(ctx, "hot", { key: "a" }))).toEqual({
        ok: true,
      });
    }
    expect(await t.mutation(async (ctx) => limiter.unblock(ctx, "hot", { key: "a" }))).toEqual({
      unblocked: false,
    });
    vi.setSystemTime(T0 + HOUR);
    const later = await t.query(async (ctx) =>
      limiter.listBlocks(ctx, "hot", { numItems: 10, cursor: null }),
    );
    expect(later.page.map((b) => b.key)).toEqual(["b"]);
  });

  test("blocks and unblocks are audit events when an audit log is passed", async () => {
    const t = guardTest();
    const actor = { type: "user", id: "admin1" };
    await t.mutation(async (ctx) =>
      limiter.block(ctx, "sendMessage", {
        key: "u",
        until: T0 + MINUTE,
        reason: "spam",
        audit,
        actor,
      }),
    );
    await t.mutation(async (ctx) =>
      limiter.unblock(ctx, "sendMessage", { key: "u", audit, actor }),
    );
    // Unblocking a key that is not blocked logs nothing.
    await t.mutation(async (ctx) =>
      limiter.unblock(ctx, "sendMessage", { key: "u", audit, actor }),
    );
    const events = await t.query(async (ctx) =>
      audit.list(ctx, { paginationOpts: { numItems: 10, cursor: null } }),
    );
    const byAction = Object.fromEntries(events.page.map((e) => [e.action, e]));
    expect(Object.keys(byAction).sort()).toEqual([
      "guard.rateLimit.block",
      "guard.rateLimit.unblock",
    ]);
    expect(byAction["guard.rateLimit.block"]).toMatchObject({
      actor,
      reason: "spam",
      targets: [{ type: "rateLimitKey", id: "u", name: "sendMessage" }],
      metadata: { limit: "sendMessage", until: T0 + MINUTE },
    });
  });

  test("the unblocked path reads and writes what it did before blocks existed", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "k" }));
    const allowed = await measure(t, (ctx) => limiter.limit(ctx, "sendMessage", { key: "k" }));
    // One read of the key's state document, patched in place (a patch counts as a read).
    expect(rw(allowed.cost)).toEqual({ read: 2, written: 1 });
    await t.mutation(async (ctx) =>
      limiter.block(ctx, "sendMessage", { key: "k", until: T0 + HOUR }),
    );
    const blocked = await measure(t, (ctx) => limiter.limit(ctx, "sendMessage", { key: "k" }));
    expect(rw(blocked.cost)).toEqual({ read: 1, written: 0 });
    const listed = await measureQuery(t, (ctx) =>
      limiter.listBlocks(ctx, "sendMessage", { numItems: 10, cursor: null }),
    );
    expect(rw(listed.cost)).toEqual({ read: 1, written: 0 });
  });

  test("bad input gets a coded error and changes nothing", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.limit(ctx, "sendMessage", { key: "k" }));
    const before = await dumpComponent(t);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "no error",
        (e: ConvexError<{ code: string }>) => e.data.code,
      );
    const block = (o: Record<string, unknown>, name = "sendMessage") =>
      code(t.mutation(async (ctx) => limiter.block(ctx, name, { key: "k", ...o } as never)));
    expect(await block({ until: T0 - 1 })).toBe("INVALID_ARGUMENT");
    expect(await block({ until: T0 })).toBe("INVALID_ARGUMENT");
    expect(await block({ until: Number.NaN })).toBe("INVALID_ARGUMENT");
    expect(await block({ until: Infinity })).toBe("INVALID_ARGUMENT");
    expect(await block({ until: T0 + 11 * 366 * 24 * HOUR })).toBe("INVALID_ARGUMENT");
    expect(await block({ until: T0 + MINUTE, reason: "x".repeat(600) })).toBe("TOO_LARGE");
    expect(await block({ until: T0 + MINUTE, reason: "" })).toBe("INVALID_ARGUMENT");
    expect(await block({ until: T0 + MINUTE, key: "" })).toBe("INVALID_ARGUMENT");
    expect(await block({ until: T0 + MINUTE, key: "k".repeat(300) })).toBe("TOO_LARGE");
    expect(await block({ until: T0 + MINUTE }, "nope")).toBe("UNKNOWN_LIMIT");
    const reserved = { until: T0 + MINUTE, config: { kind: "token bucket", rate: 1, period: 1 } };
    expect(await block(reserved, "guard:codes")).toBe("INVALID_ARGUMENT");
    expect(
      await code(
        t.mutation(async (ctx) =>
          limiter.block(ctx, "x", {
            until: T0 + MINUTE,
            config: { kind: "token bucket", rate: -1, period: MINUTE },
          }),
        ),
      ),
    ).toBe("INVALID_CONFIG");
    expect(
      await code(t.mutation(async (ctx) => limiter.unblock(ctx, "guard:codes", { key: "k" }))),
    ).toBe("INVALID_ARGUMENT");
    for (const numItems of [0, 257, 1.5, Number.NaN]) {
      expect(
        await code(
          t.query(async (ctx) =>
            limiter.listBlocks(ctx, "sendMessage", { numItems, cursor: null }),
          ),
        ),
      ).toBe("INVALID_ARGUMENT");
    }
    expect(await dumpComponent(t)).toEqual(before);
  });
});

describe("a block holds whatever the caller's config says", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  test("a key blocked on 4 shards is refused on every shard after the shard count changes to 8", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.block(ctx, "hot", { key: "d", until: T0 + HOUR }));
    vi.setSystemTime(T0 + HOUR / 2);
    for (let i = 0; i < 40; i++) {
      const r = await t.mutation(async (ctx) =>
        limiter.limit(ctx, "hot", { key: "d", config: hot8 }),
      );
      expect(r).toMatchObject({ ok: false, reason: "blocked" });
    }
    const all = await t.mutation(async (ctx) =>
      limiter.limitAll(ctx, [{ name: "hot", key: "d", config: hot8 }]),
    );
    expect(all.ok).toBe(false);
    expect(
      await t.query(async (ctx) => limiter.check(ctx, "hot", { key: "d", config: hot8 })),
    ).toMatchObject({ ok: false, reason: "blocked" });
  });

  test("a blocked document is never swept before its block ends, whatever the calls did", async () => {
    const t = guardTest();
    await t.mutation(async (ctx) => limiter.block(ctx, "hot", { key: "d", until: T0 + HOUR }));
    for (let i = 0; i < 20; i++)
      await t.mutation(async (ctx) => limiter.limit(ctx, "hot", { key: "d", config: hot8 }));
    vi.setSystemTime(T0 + HOUR - MINUTE);
    for (let i = 0; i < 3; i++) {
      await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
      vi.advanceTimersByTime(1000);
    }
    const listed = await t.query(async (ctx) =>
      limiter.listBlocks(ctx, "hot", { numItems: 10, cursor: null }),
    );
    expect(listed.page.map((b) => b.key)).toEqual(["d"]);
    expect(await t.mutation(async (ctx) => limiter.limit(ctx, "hot", { key: "d" }))).toMatchObject({
      ok: false,
      reason: "blocked",
    });
  });

  test("reset and credit never lift a block: only unblock does, and it is audited", async () => {
    const t = guardTest();
    for (const name of ["hot", "hotAsync", "sendMessage"] as const) {
      await t.mutation(async (ctx) => limiter.block(ctx, name, { key: "d", until: T0 + HOUR }));
      await t.mutation(async (ctx) => limiter.reset(ctx, name, { key: "d" }));
      await t.mutation(async (ctx) => limiter.credit(ctx, name, { key: "d", count: 5 }));
      expect(await t.mutation(async (ctx) => limiter.limit(ctx, name, { key: "d" }))).toMatchObject(
        { ok: false, reason: "blocked" },
      );
      await t.mutation(async (ctx) => limiter.unblock(ctx, name, { key: "d", audit }));
      expect(await t.mutation(async (ctx) => limiter.limit(ctx, name, { key: "d" }))).toMatchObject(
        { ok: true },
      );
    }
    const events = await t.query(async (ctx) =>
      audit.list(ctx, { paginationOpts: { numItems: 10, cursor: null } }),
    );
    expect(events.page.filter((e) => e.action === "guard.rateLimit.unblock")).toHaveLength(3);
  });
});
