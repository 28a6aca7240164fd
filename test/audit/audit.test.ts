import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { v } from "convex/values";
import { AuditLog, verifyProof, ErrorCode, DAY, isGuardError } from "convex-guard";
import { components, guardTest, runInGuard } from "../setup.js";
import { EMPTY_SEAL_INTERVAL } from "../../src/component/audit/model.js";
import { SEAL_DELAY_MS } from "../../src/component/maintenance/due.js";

const audit = new AuditLog(components.guard, {
  actions: {
    "user.delete": v.object({ reason: v.string() }),
    "user.login": v.optional(v.object({ method: v.optional(v.string()) })),
    "doc.edit": v.any(),
  },
  redact: ["context.ip", "metadata.reason", "actor.name"],
  retention: { days: 30 },
});
const loose = new AuditLog(components.guard);
type T = ReturnType<typeof guardTest>;
const page = (numItems: number, cursor: string | null = null) => ({
  paginationOpts: { numItems, cursor },
});
const actor = { type: "user", id: "admin1" };

async function expectCode(p: Promise<unknown>, code: string) {
  try {
    await p;
  } catch (e) {
    expect(isGuardError(e) ? (e.data as any).code : String(e)).toBe(code);
    return;
  }
  throw new Error(`expected a ConvexError with code ${code}`);
}

const countEvents = (t: T) =>
  runInGuard(t, async (ctx) => (await ctx.db.query("auditEvents").collect()).length);

describe("audit log API", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  test("log, seal, list, get (with reveal), verify, head, proof", async () => {
    const t = guardTest();
    const id = await t.mutation((ctx) =>
      audit.log(ctx, {
        action: "user.delete",
        actor: { type: "user", id: "admin1", name: "Ada" },
        targets: [{ type: "user", id: "u2" }],
        outcome: "success",
        context: { ip: "10.0.0.1", requestId: "r1" },
        metadata: { reason: "spam" },
      }),
    );
    const e = await t.query((ctx) => audit.get(ctx, id));
    expect(e).toMatchObject({
      action: "user.delete",
      recordedAt: 1_000_000,
      occurredAt: 1_000_000,
      retainUntil: 1_000_000 + 30 * DAY,
    });
    expect(e!.context).toEqual({ requestId: "r1" });
    expect(e!.actor).toEqual({ type: "user", id: "admin1" });
    expect(e!.redacted!.map((c) => c.path)).toEqual([
      "actor.name",
      "context.ip",
      "metadata.reason",
    ]);
    expect(e!.seq).toBeUndefined();
    const revealed = await t.query((ctx) => audit.get(ctx, id, { reveal: true }));
    expect(revealed).toMatchObject({
      actor: { name: "Ada" },
      context: { ip: "10.0.0.1" },
      metadata: { reason: "spam" },
      erased: [],
    });

    expect(await t.mutation((ctx) => audit.seal(ctx))).toEqual({ processed: 1, more: false });
    const head = await t.query((ctx) => audit.head(ctx));
    expect(head).toMatchObject({ n: 0, toSeq: 0 });
    const listed = await t.query((ctx) =>
      audit.list(ctx, { target: { type: "user", id: "u2" }, ...page(10) }),
    );
    expect(listed.page.map((x) => x.id)).toEqual([id]);
    expect(await t.query((ctx) => audit.verify(ctx))).toMatchObject({
      ok: true,
      done: true,
      checkedEvents: 1,
      break: null,
    });
    const sealed = (await t.query((ctx) => audit.get(ctx, id, { reveal: true })))!;
    const proof = (await t.query((ctx) => audit.proof(ctx, id)))!;
    expect(await verifyProof(sealed, proof, head!.hash)).toBe(true);
    expect(await verifyProof({ ...sealed, outcome: "failure" }, proof, head!.hash)).toBe(false);
    expect(await verifyProof(sealed, proof, "0".repeat(64))).toBe(false);
  });

  test("proofs hold for every event of several seals, up to the current head", async () => {
    const t = guardTest();
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) {
      ids.push(
        await t.mutation((ctx) =>
          loose.log(ctx, { action: "x", actor, outcome: "success", metadata: { i } }),
        ),
      );
      if (i % 4 === 3) await t.mutation((ctx) => loose.seal(ctx));
    }
    expect(await t.query((ctx) => loose.proof(ctx, ids[10]!))).toBeNull(); // not sealed yet
    await t.mutation((ctx) => loose.seal(ctx));
    const head = (await t.query((ctx) => loose.head(ctx)))!;
    expect(head.n).toBe(2);
    for (const id of ids) {
      const e = (await t.query((ctx) => loose.get(ctx, id)))!;
      const p = (await t.query((ctx) => loose.proof(ctx, id)))!;
      expect(await verifyProof(e, p, head.hash)).toBe(true);
    }
    // Anchored at an older seal.
    const p0 = (await t.query((ctx) => loose.proof(ctx, ids[0]!, { headN: 0 })))!;
    expect(p0.seals).toHaveLength(1);
    expect(
      await verifyProof((await t.query((ctx) => loose.get(ctx, ids[0]!)))!, p0, p0.seals[0]!.hash),
    ).toBe(true);
  });

  test("a host mutation that throws after log leaves no event", async () => {
    const t = guardTest();
    await expect(
      t.mutation(async (ctx) => {
        await audit.log(ctx, { action: "user.login", actor, outcome: "success" });
        throw new Error("host failed");
      }),
    ).rejects.toThrow("host failed");
    expect(await countEvents(t)).toBe(0);
    expect(
      await runInGuard(t, async (ctx) => (await ctx.db.query("auditTargets").collect()).length),
    ).toBe(0);
  });

  test("eventId: same content returns the first id; different content is CONFLICT; scoped per tenant", async () => {
    const t = guardTest();
    const ev = {
      action: "user.login" as const,
      actor,
      outcome: "success" as const,
      eventId: "req-1",
    };
    const a = await t.mutation((ctx) => audit.log(ctx, ev));
    vi.setSystemTime(2_000_000);
    expect(await t.mutation((ctx) => audit.log(ctx, ev))).toBe(a);
    await expectCode(
      t.mutation((ctx) => audit.log(ctx, { ...ev, outcome: "failure" })),
      ErrorCode.CONFLICT,
    );
    const b = await t.mutation((ctx) => audit.log(ctx, { ...ev, tenant: "org1" }));
    expect(b).not.toBe(a);
    expect(await countEvents(t)).toBe(2);
  });

  test("eventId: the stored idempotency digest never covers a redacted value, so an erased value cannot be guessed from it", async () => {
    const t = guardTest();
    const ev = {
      action: "user.login" as const,
      actor,
      outcome: "success" as const,
      eventId: "req-ip",
    };
    const a = await t.mutation((ctx) => audit.log(ctx, { ...ev, context: { ip: "10.0.0.1" } }));
    // Only a digest independent of the redacted ip can match a retry that carries another ip.
    expect(await t.mutation((ctx) => audit.log(ctx, { ...ev, context: { ip: "10.0.0.2" } }))).toBe(
      a,
    );
    // Which redacted fields were present still counts, like every non-redacted field.
    await expectCode(
      t.mutation((ctx) => audit.log(ctx, ev)),
      ErrorCode.CONFLICT,
    );
    expect(await countEvents(t)).toBe(1);
  });

  test("proof refuses a seal whose range was edited instead of reading an unbounded range", async () => {
    const t = guardTest();
    const id = await t.mutation((ctx) =>
      loose.log(ctx, { action: "x", actor, outcome: "success" }),
    );
    await t.mutation((ctx) => loose.seal(ctx));
    await runInGuard(t, async (ctx) => {
      const s = (await ctx.db.query("auditSeals").first())!;
      await ctx.db.patch("auditSeals", s._id, { toSeq: 1e9 });
    });
    await expectCode(
      t.query((ctx) => loose.proof(ctx, id)),
      ErrorCode.CORRUPT_STATE,
    );
  });

  test.each([-1e15, 0.5, 1e300])(
    "proof refuses a seal numbered %s instead of walking an unbounded path",
    async (n) => {
      const t = guardTest();
      const id = await t.mutation((ctx) =>
        loose.log(ctx, { action: "x", actor, outcome: "success" }),
      );
      await t.mutation((ctx) => loose.seal(ctx));
      await t.mutation((ctx) => loose.log(ctx, { action: "y", actor, outcome: "success" }));
      await t.mutation((ctx) => loose.seal(ctx));
      await runInGuard(t, async (ctx) => {
        const s = (await ctx.db.query("auditSeals").withIndex("by_n").first())!;
        await ctx.db.patch("auditSeals", s._id, { n });
      });
      await expectCode(
        t.query((ctx) => loose.proof(ctx, id)),
        ErrorCode.CORRUPT_STATE,
      );
    },
  );

  test("occurredAt is kept as given; recordedAt is the component's clock", async () => {
    const t = guardTest();
    const id = await t.mutation((ctx) =>
      loose.log(ctx, { action: "x", actor, outcome: "success", occurredAt: 5 }),
    );
    expect(await t.query((ctx) => loose.get(ctx, id))).toMatchObject({
      occurredAt: 5,
      recordedAt: 1_000_000,
    });
  });

  test("the maintenance loop seals on its own; a host cron's seal() writes an empty seal after an idle hour", async () => {
    const t = guardTest();
    await t.mutation((ctx) => loose.log(ctx, { action: "x", actor, outcome: "success" }));
    vi.advanceTimersByTime(SEAL_DELAY_MS);
    await t.finishInProgressScheduledFunctions();
    expect(await t.query((ctx) => loose.head(ctx))).toMatchObject({ n: 0, toSeq: 0 });
    // Idle: the loop stops; a gap in time shows as an empty seal only if the host seals on a cron.
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    vi.advanceTimersByTime(EMPTY_SEAL_INTERVAL);
    await t.mutation((ctx) => loose.seal(ctx));
    const head = (await t.query((ctx) => loose.head(ctx)))!;
    expect(head).toMatchObject({ n: 1, toSeq: 0 });
    expect((await t.query((ctx) => loose.verify(ctx))).break).toBeNull();
  });

  test("sealing takes bounded batches and never skips an event", async () => {
    const t = guardTest();
    await runInGuard(t, async (ctx) => {
      const { insertEvent } = await import("../../src/component/audit/append.js");
      for (let i = 0; i < 600; i++)
        await insertEvent(
          ctx,
          1_000_000,
          { action: "x", actor, outcome: "success" },
          [],
          undefined,
        );
    });
    expect(await t.mutation((ctx) => loose.seal(ctx))).toEqual({ processed: 256, more: true });
    expect(await t.mutation((ctx) => loose.seal(ctx))).toEqual({ processed: 256, more: true });
    expect(await t.mutation((ctx) => loose.seal(ctx))).toEqual({ processed: 88, more: false });
    expect(await t.query((ctx) => loose.head(ctx))).toMatchObject({ n: 2, toSeq: 599 });
  });

  test("a seal takes every event committed before it, in commit order, whatever the clocks say", async () => {
    const t = guardTest();
    vi.setSystemTime(2_000_000);
    await t.mutation((ctx) => loose.log(ctx, { action: "later", actor, outcome: "success" }));
    vi.setSystemTime(1_990_000); // the sealer's clock is behind the event's
    expect(await t.mutation((ctx) => loose.seal(ctx))).toEqual({ processed: 1, more: false });
    vi.setSystemTime(2_000_000);
    expect((await t.query((ctx) => loose.verify(ctx))).break).toBeNull();
  });

  test("retention deletes payloads past the horizon, records the run, and verify reports the range as retained", async () => {
    const t = guardTest();
    const short = new AuditLog(components.guard, { retention: { days: 1 } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        await t.mutation((ctx) =>
          short.log(ctx, {
            action: "x",
            actor,
            targets: [{ type: "doc", id: "d" }],
            outcome: "success",
          }),
        ),
      );
    const kept = await t.mutation((ctx) =>
      loose.log(ctx, { action: "y", actor, outcome: "success" }),
    );
    await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
    expect((await t.query((ctx) => loose.list(ctx, page(10)))).page).toHaveLength(4);
    vi.setSystemTime(1_000_000 + DAY);
    const pass = await t.mutation((ctx) =>
      ctx.runMutation(components.guard.maintenance.runNow, {}),
    );
    expect(pass.audit).toBe(3);
    const left = (await t.query((ctx) => loose.list(ctx, { order: "asc", ...page(10) }))).page;
    expect(left.map((e) => e.action)).toEqual(["y", "guard.audit.retention"]);
    expect(left[0]!.id).toBe(kept);
    expect(left[1]).toMatchObject({
      actor: { type: "system", id: "convex-guard" },
      metadata: { events: 3, fromSeq: 0, toSeq: 2 },
    });
    expect(
      (await t.query((ctx) => loose.list(ctx, { target: { type: "doc", id: "d" }, ...page(10) })))
        .page,
    ).toEqual([]);
    expect(await t.query((ctx) => loose.get(ctx, ids[0]!))).toBeNull();
    await expectCode(
      t.query((ctx) => loose.proof(ctx, ids[0]!)),
      ErrorCode.NOT_FOUND,
    );
    await t.mutation((ctx) => loose.seal(ctx));
    const r = await t.query((ctx) => loose.verify(ctx));
    expect(r).toMatchObject({
      ok: true,
      done: true,
      break: null,
      retained: [{ fromSeq: 0, toSeq: 2 }],
    });
  });

  test("erase deletes redacted values and salts of a subject's events; hashes still verify; the erasure is logged", async () => {
    const t = guardTest();
    const mine = await t.mutation((ctx) =>
      audit.log(ctx, {
        action: "user.delete",
        actor,
        targets: [{ type: "user", id: "u9" }],
        outcome: "success",
        context: { ip: "1.2.3.4" },
        metadata: { reason: "asked" },
      }),
    );
    const other = await t.mutation((ctx) =>
      audit.log(ctx, {
        action: "user.delete",
        actor,
        targets: [{ type: "user", id: "u8" }],
        outcome: "success",
        context: { ip: "5.6.7.8" },
        metadata: { reason: "spam" },
      }),
    );
    await t.mutation((ctx) => audit.seal(ctx));
    expect(
      await t.mutation((ctx) => audit.erase(ctx, { subject: { type: "user", id: "u9" }, actor })),
    ).toEqual({ erased: 1, done: true });
    const a = (await t.query((ctx) => audit.get(ctx, mine, { reveal: true })))!;
    expect(a.erased).toEqual(
      ["actor.name", "context.ip", "metadata.reason"].filter((p) =>
        a.redacted!.some((c) => c.path === p),
      ),
    );
    expect(a.context?.ip).toBeUndefined();
    expect(a.metadata).toEqual({});
    expect((await t.query((ctx) => audit.get(ctx, other, { reveal: true })))!.context?.ip).toBe(
      "5.6.7.8",
    );
    const secrets = await runInGuard(t, async (ctx) =>
      JSON.stringify(await ctx.db.query("auditSecrets").collect(), (_k, v: unknown) =>
        typeof v === "bigint" ? v.toString() : v,
      ),
    );
    expect(secrets).not.toContain("1.2.3.4");
    const log = (
      await t.query((ctx) => audit.list(ctx, { action: "guard.audit.erase", ...page(10) }))
    ).page;
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      actor,
      targets: [{ type: "user", id: "u9" }],
      metadata: { erased: 1, done: true },
    });
    await t.mutation((ctx) => audit.seal(ctx));
    expect((await t.query((ctx) => audit.verify(ctx))).break).toBeNull();
    const head = (await t.query((ctx) => audit.head(ctx)))!;
    expect(await verifyProof(a, (await t.query((ctx) => audit.proof(ctx, mine)))!, head.hash)).toBe(
      true,
    );
  });

  test("export: JSON Lines and CSV (header on the first page, formula cells neutralized)", async () => {
    const t = guardTest();
    await t.mutation((ctx) =>
      loose.log(ctx, {
        action: "x",
        actor: { type: "user", id: "=cmd()" },
        outcome: "success",
        reason: 'say "hi", ok',
      }),
    );
    await t.mutation((ctx) => loose.log(ctx, { action: "y", actor, outcome: "denied" }));
    const j = await t.query((ctx) =>
      loose.export(ctx, { format: "jsonl", order: "asc", ...page(10) }),
    );
    const lines = j.data
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.action)).toEqual(["x", "y"]);
    const c1 = await t.query((ctx) =>
      loose.export(ctx, { format: "csv", order: "asc", ...page(1) }),
    );
    const rows = c1.data.split("\r\n");
    expect(rows[0]).toMatch(/^id,seq,recordedAt,/);
    expect(rows[1]).toContain(`'=cmd()`);
    expect(rows[1]).toContain(`"say ""hi"", ok"`);
    const c2 = await t.query((ctx) =>
      loose.export(ctx, { format: "csv", order: "asc", ...page(1, c1.continueCursor) }),
    );
    expect(c2.data.split("\r\n")[0]).not.toMatch(/^id,seq/);
  });
});

describe("audit log bad input: ConvexError with a code, no state change", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const ok = { action: "doc.edit" as const, actor, outcome: "success" as const };
  const direct = (t: T, event: any, extra: any = {}) =>
    t.mutation((ctx) => ctx.runMutation(components.guard.audit.log, { event, ...extra }));

  test.each([
    [
      "metadata over 8 KB serialized",
      {
        metadata: {
          a: "x".repeat(1000),
          b: "x".repeat(1000),
          c: "x".repeat(1000),
          d: "x".repeat(1000),
          e: "x".repeat(1000),
          f: "x".repeat(1000),
          g: "x".repeat(1000),
          h: "x".repeat(1000),
          i: "x".repeat(1000),
        },
      },
      ErrorCode.TOO_LARGE,
    ],
    ["a metadata string over 1 KB", { metadata: { note: "x".repeat(1025) } }, ErrorCode.TOO_LARGE],
    ["reason over 1 KB", { reason: "é".repeat(513) }, ErrorCode.TOO_LARGE],
    ["actor name over 1 KB", { actor: { ...actor, name: "x".repeat(1025) } }, ErrorCode.TOO_LARGE],
    ["context field over 1 KB", { context: { userAgent: "x".repeat(1025) } }, ErrorCode.TOO_LARGE],
    [
      "more than 20 targets",
      { targets: Array.from({ length: 21 }, (_, i) => ({ type: "doc", id: `d${i}` })) },
      ErrorCode.TOO_LARGE,
    ],
    ["an action over 256 bytes", { action: "a".repeat(257) }, ErrorCode.TOO_LARGE],
    ["an empty action", { action: "" }, ErrorCode.INVALID_ARGUMENT],
    ["an empty actor id", { actor: { type: "user", id: "" } }, ErrorCode.INVALID_ARGUMENT],
    ["an empty target type", { targets: [{ type: "", id: "x" }] }, ErrorCode.INVALID_ARGUMENT],
    ["an empty tenant", { tenant: "" }, ErrorCode.INVALID_ARGUMENT],
    ["an empty eventId", { eventId: "" }, ErrorCode.INVALID_ARGUMENT],
    ["NaN occurredAt", { occurredAt: NaN }, ErrorCode.INVALID_ARGUMENT],
    ["negative occurredAt", { occurredAt: -1 }, ErrorCode.INVALID_ARGUMENT],
  ])("log with %s → %s (client and component)", async (_name, patch, code) => {
    const t = guardTest();
    await expectCode(
      t.mutation((ctx) => audit.log(ctx, { ...ok, ...(patch as any) })),
      code,
    );
    await expectCode(direct(t, { ...ok, ...(patch as any) }), code);
    expect(await countEvents(t)).toBe(0);
  });

  test("metadata that is not a storable Convex value (a $-prefixed key) → INVALID_ARGUMENT", async () => {
    const t = guardTest();
    await expectCode(
      t.mutation((ctx) => loose.log(ctx, { ...ok, metadata: { $where: "1" } })),
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(await countEvents(t)).toBe(0);
  });

  test("typed actions: unknown action → INVALID_ARGUMENT", async () => {
    const t = guardTest();
    await expectCode(
      t.mutation((ctx) => audit.log(ctx, { ...ok, action: "user.unknown" } as any)),
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(await countEvents(t)).toBe(0);
  });

  test("typed actions: metadata not matching the action's validator → INVALID_ARGUMENT", async () => {
    const t = guardTest();
    await expectCode(
      t.mutation((ctx) =>
        audit.log(ctx, { ...ok, action: "user.delete", metadata: { reason: 42 } } as any),
      ),
      ErrorCode.INVALID_ARGUMENT,
    );
    await expectCode(
      t.mutation((ctx) => audit.log(ctx, { ...ok, action: "user.delete" } as any)),
      ErrorCode.INVALID_ARGUMENT,
    );
    await expectCode(
      t.mutation((ctx) =>
        audit.log(ctx, {
          ...ok,
          action: "user.login",
          metadata: { method: "pw", extra: 1 },
        } as any),
      ),
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(await countEvents(t)).toBe(0);
  });

  test("typed actions still accept convex-guard's own guard.* events", async () => {
    const t = guardTest();
    await t.mutation((ctx) => audit.log(ctx, { ...ok, action: "guard.confirmation.issue" } as any));
    expect(await countEvents(t)).toBe(1);
  });

  test("component: bad redact path → INVALID_ARGUMENT", async () => {
    const t = guardTest();
    await expectCode(direct(t, ok, { redact: ["actor.id"] }), ErrorCode.INVALID_ARGUMENT);
    expect(await countEvents(t)).toBe(0);
  });

  test("component: bad retentionMs → INVALID_ARGUMENT", async () => {
    const t = guardTest();
    await expectCode(direct(t, ok, { retentionMs: -5 }), ErrorCode.INVALID_ARGUMENT);
    await expectCode(direct(t, ok, { retentionMs: NaN }), ErrorCode.INVALID_ARGUMENT);
    expect(await countEvents(t)).toBe(0);
  });

  test.each([
    ["redact of an index field", { redact: ["actor.id"] }],
    ["redact of an unknown root", { redact: ["password"] }],
    ["retention of 0 days", { retention: { days: 0 } }],
    ["retention of NaN days", { retention: { days: NaN } }],
    ["retention over 100 years", { retention: { days: 40_000 } }],
  ])("constructor with %s → INVALID_CONFIG", (_name, opts) => {
    let code: string | undefined;
    try {
      new AuditLog(components.guard, opts as any);
    } catch (e) {
      code = isGuardError(e) ? (e.data as any).code : undefined;
    }
    expect(code).toBe(ErrorCode.INVALID_CONFIG);
  });

  test.each([
    ["two equality filters (actor + action)", { actor, action: "x" }],
    ["two equality filters (target + outcome)", { target: actor, outcome: "success" }],
    ["from after to", { from: 10, to: 5 }],
    ["NaN from", { from: NaN }],
    ["an empty tenant", { tenant: "" }],
    ["an empty actor id", { actor: { type: "user", id: "" } }],
    ["page size 0", { paginationOpts: { numItems: 0, cursor: null } }],
    ["page size over 500", { paginationOpts: { numItems: 501, cursor: null } }],
    ["fractional page size", { paginationOpts: { numItems: 2.5, cursor: null } }],
  ])("list with %s → INVALID_ARGUMENT (client and component)", async (_name, args) => {
    const t = guardTest();
    await t.mutation((ctx) => loose.log(ctx, ok));
    const full = { ...page(10), ...(args as any) };
    await expectCode(
      t.query((ctx) => loose.list(ctx, full)),
      ErrorCode.INVALID_ARGUMENT,
    );
    await expectCode(
      t.query((ctx) => ctx.runQuery(components.guard.audit.list, full)),
      ErrorCode.INVALID_ARGUMENT,
    );
  });

  test("export with an unknown format → INVALID_ARGUMENT", async () => {
    const t = guardTest();
    await expectCode(
      t.query((ctx) => loose.export(ctx, { format: "xml" as any, ...page(10) })),
      ErrorCode.INVALID_ARGUMENT,
    );
  });

  test("get / proof with a malformed id → INVALID_ARGUMENT", async () => {
    const t = guardTest();
    await expectCode(
      t.query((ctx) => loose.get(ctx, "not-an-id")),
      ErrorCode.INVALID_ARGUMENT,
    );
    await expectCode(
      t.query((ctx) => loose.proof(ctx, "not-an-id")),
      ErrorCode.INVALID_ARGUMENT,
    );
  });

  test("verify with a bad cursor or page size → INVALID_ARGUMENT", async () => {
    const t = guardTest();
    await expectCode(
      t.query((ctx) => loose.verify(ctx, { cursor: "abc" })),
      ErrorCode.INVALID_ARGUMENT,
    );
    await expectCode(
      t.query((ctx) => loose.verify(ctx, { cursor: "-1" })),
      ErrorCode.INVALID_ARGUMENT,
    );
    await expectCode(
      t.query((ctx) => loose.verify(ctx, { maxEvents: 0 })),
      ErrorCode.INVALID_ARGUMENT,
    );
    await expectCode(
      t.query((ctx) => loose.verify(ctx, { maxEvents: 513 })),
      ErrorCode.INVALID_ARGUMENT,
    );
  });

  test("erase with an empty subject id → INVALID_ARGUMENT, nothing logged", async () => {
    const t = guardTest();
    await expectCode(
      t.mutation((ctx) => loose.erase(ctx, { subject: { type: "user", id: "" } })),
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(await countEvents(t)).toBe(0);
  });
});
