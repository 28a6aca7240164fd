import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { AuditLog, DAY, ErrorCode, isGuardError, verifyProof } from "convex-guard";
import { components, guardTest, runInGuard } from "../setup.js";
import { commitment, commitsDigest, sealHash } from "../../src/component/audit/merkle.js";
import { payloadHash, payloadOf, secretMatches } from "../../src/component/audit/leaf.js";
import { csvCell } from "../../src/component/audit/export.js";
import { sha256Hex, canonicalJson } from "../../src/component/lib/hash.js";

/*
 * Each miss found by trying the log as a dashboard admin would (issue 12),
 * as a named test that now detects it.
 */

const audit = new AuditLog(components.guard, {
  redact: ["context.ip", "metadata.email"],
  retention: { days: 30 },
});
type T = ReturnType<typeof guardTest>;
const actor = { type: "user", id: "ada" };

async function logSome(t: T, count = 3) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(
      await t.mutation((ctx) =>
        audit.log(ctx, {
          action: "doc.edit",
          actor,
          targets: [{ type: "doc", id: `d${i}` }],
          tenant: "acme",
          outcome: "success",
          context: { ip: `10.0.0.${i}` },
          metadata: { email: `u${i}@example.com`, n: i },
          eventId: `e${i}`,
        }),
      ),
    );
  }
  return ids;
}

const verify = (t: T, args: Parameters<typeof audit.verify>[1] = {}) =>
  t.query((ctx) => audit.verify(ctx, args));
const seal = (t: T) => t.mutation((ctx) => audit.seal(ctx));

async function expectCode(p: Promise<unknown>, code: string) {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(isGuardError(e) ? (e.data as { code: string }).code : String(e)).toBe(code);
}

describe("tampering an admin could do in the dashboard", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(10 * DAY);
  });
  afterEach(() => vi.useRealTimers());

  test("a forged redacted value is not revealed, fails verify and fails verifyProof", async () => {
    const t = guardTest();
    const [id] = await logSome(t, 1);
    await seal(t);
    const genuine = (await t.query((ctx) => audit.get(ctx, id!, { reveal: true })))!;
    expect(genuine.context?.ip).toBe("10.0.0.0");
    await runInGuard(t, async (ctx) => {
      const row = (await ctx.db.query("auditSecrets").first())!;
      const values = row.values.map((v) =>
        v.path === "context.ip" ? { ...v, value: "6.6.6.6" } : v,
      );
      await ctx.db.patch("auditSecrets", row._id, { values });
    });
    const forged = (await t.query((ctx) => audit.get(ctx, id!, { reveal: true })))!;
    expect(forged.context?.ip).toBeUndefined();
    expect(forged.mismatched).toEqual(["context.ip"]);
    expect((await verify(t)).break).toMatchObject({ kind: "secret_mismatch" });
    const proof = (await t.query((ctx) => audit.proof(ctx, id!)))!;
    const head = (await t.query((ctx) => audit.head(ctx)))!;
    expect(await verifyProof(genuine, proof, head.hash)).toBe(true);
    const lie = { ...genuine, context: { ...genuine.context, ip: "6.6.6.6" } };
    expect(await verifyProof(lie, proof, head.hash)).toBe(false);
  });

  test("a secrets row moved to another event is reported", async () => {
    const t = guardTest();
    const [a, b] = await logSome(t, 2);
    await seal(t);
    await runInGuard(t, async (ctx) => {
      const rows = await ctx.db.query("auditSecrets").collect();
      const ofB = rows.find((r) => r.event === b)!;
      await ctx.db.delete("auditSecrets", ofB._id);
      const ofA = rows.find((r) => r.event === a)!;
      await ctx.db.patch("auditSecrets", ofA._id, { event: ofB.event });
    });
    const moved = (await t.query((ctx) => audit.get(ctx, b!, { reveal: true })))!;
    expect(moved.mismatched?.length).toBeGreaterThan(0);
    expect((await verify(t)).break).toMatchObject({ kind: "secret_mismatch" });
  });

  test("number commitments are binding: a salt one digit longer cannot reinterpret 12 as 2", async () => {
    const salt = "ab".repeat(16);
    const c = await commitment(salt, 12);
    expect(await secretMatches(salt, 12, c)).toBe(true);
    expect(await secretMatches(salt + "1", 2, c)).toBe(false);
    expect(await secretMatches(salt, "12", c)).toBe(false); // typed encoding
  });

  test("an event inserted by hand, back-dated a year, is set aside and reported", async () => {
    const t = guardTest();
    await logSome(t, 2);
    await seal(t);
    const genuine = await runInGuard(
      t,
      async (ctx) => (await ctx.db.query("auditEvents").first())!,
    );
    await runInGuard(t, async (ctx) => {
      const { _id, _creationTime, seq, ...rest } = genuine;
      void _id;
      void _creationTime;
      void seq;
      await ctx.db.insert("auditEvents", {
        ...rest,
        recordedAt: rest.recordedAt - 365 * DAY,
        occurredAt: rest.recordedAt - 365 * DAY,
        commitTs: BigInt(10 * DAY) * 1_000_000n,
      });
    });
    expect((await verify(t)).break).toMatchObject({ kind: "event_unsealed" });
    await seal(t);
    const r = await verify(t);
    expect(r.break).toMatchObject({ kind: "event_unsealed" });
    expect(
      (await t.query((ctx) => audit.list(ctx, { paginationOpts: { numItems: 10, cursor: null } })))
        .page,
    ).toHaveLength(3);
  });

  test("a back-dated event and a forged genesis seal before the first seal are reported", async () => {
    const t = guardTest();
    await runInGuard(t, async (ctx) => {
      const sealedAt = 10 * DAY - 30 * DAY;
      const header = {
        n: 0,
        fromSeq: 0,
        toSeq: -1,
        root: await sha256Hex(new Uint8Array(0)),
        prevHash: "0".repeat(64),
        sealedAt,
        upTo: BigInt(sealedAt) * 1_000_000n,
        commits: await commitsDigest([]),
        skips: [],
      };
      await ctx.db.insert("auditSeals", { ...header, hash: await sealHash(header) });
    });
    expect((await verify(t)).break).toMatchObject({ kind: "time_mismatch", seal: 0 });
  });

  test("a stopped sealer is reported as sealing_stalled once the threshold passes", async () => {
    const t = guardTest();
    await logSome(t, 2);
    const fresh = await verify(t);
    expect(fresh.ok).toBe(true);
    expect(fresh.liveness).toMatchObject({
      unsealed: 2,
      unsealedCapped: false,
      headSealedAt: null,
    });
    vi.setSystemTime(10 * DAY + 6 * 60_000);
    const stalled = await verify(t);
    expect(stalled.break).toMatchObject({ kind: "sealing_stalled" });
    expect((await verify(t, { stalledAfterMs: 60 * 60_000 })).ok).toBe(true);
    await seal(t);
    expect((await verify(t)).liveness).toMatchObject({ unsealed: 0, oldestUnsealedAt: null });
  });

  test.each(["actorKey", "tenantKey"] as const)(
    "an edited %s (which hides the event from a filter) is reported",
    async (field) => {
      const t = guardTest();
      await logSome(t, 2);
      await seal(t);
      await runInGuard(t, async (ctx) => {
        const e = (await ctx.db.query("auditEvents").first())!;
        await ctx.db.patch("auditEvents", e._id, { [field]: "elsewhere" });
      });
      expect((await verify(t)).break).toMatchObject({ kind: "index_mismatch" });
    },
  );

  test("an edited inputHash and a target row moved to another event are reported", async () => {
    const t = guardTest();
    await logSome(t, 2);
    await seal(t);
    await runInGuard(t, async (ctx) => {
      const e = (await ctx.db.query("auditEvents").first())!;
      await ctx.db.patch("auditEvents", e._id, { inputHash: "0".repeat(64) });
    });
    expect((await verify(t)).break).toMatchObject({ kind: "event_edited" });

    const t2 = guardTest();
    await logSome(t2, 2);
    await seal(t2);
    await runInGuard(t2, async (ctx) => {
      const [a, b] = await ctx.db.query("auditEvents").collect();
      const row = (await ctx.db.query("auditTargets").collect()).find((r) => r.event === a!._id)!;
      await ctx.db.patch("auditTargets", row._id, { event: b!._id });
    });
    expect((await verify(t2)).break).toMatchObject({ kind: "index_mismatch" });
  });

  test("seq = -NaN is reported, and proof() on it throws a coded error", async () => {
    const t = guardTest();
    const [id] = await logSome(t, 2);
    await seal(t);
    await runInGuard(t, async (ctx) => {
      await ctx.db.patch("auditEvents", ctx.db.normalizeId("auditEvents", id!)!, { seq: -NaN });
    });
    expect((await verify(t)).break).toMatchObject({ kind: "malformed" });
    await expectCode(
      t.query((ctx) => audit.proof(ctx, id!)),
      ErrorCode.CORRUPT_STATE,
    );
  });

  test("a seal with n = -1 is reported", async () => {
    const t = guardTest();
    await logSome(t, 1);
    await seal(t);
    await runInGuard(t, async (ctx) => {
      const s = (await ctx.db.query("auditSeals").first())!;
      const { _id, _creationTime, ...rest } = s;
      void _id;
      void _creationTime;
      await ctx.db.insert("auditSeals", { ...rest, n: -1 });
    });
    expect((await verify(t)).ok).toBe(false);
  });

  test("a forged verify cursor is refused with INVALID_ARGUMENT, never a false report", async () => {
    const t = guardTest();
    for (let i = 0; i < 3; i++) {
      await t.mutation((ctx) => audit.log(ctx, { action: `a${i}`, actor, outcome: "success" }));
      await seal(t);
    }
    for (const cursor of ["1e3", "1", "-1", `1:${"0".repeat(64)}`, `99:${"0".repeat(64)}`]) {
      await expectCode(verify(t, { cursor }), ErrorCode.INVALID_ARGUMENT);
    }
    const page = await verify(t, { maxEvents: 1 });
    expect(page.cursor).not.toBeNull();
    expect((await verify(t, { cursor: page.cursor })).ok).toBe(true);
  });

  test("a retention stub keeps a salted digest: guessing the deleted payload does not reproduce it", async () => {
    const t = guardTest();
    const short = new AuditLog(components.guard, { retention: { days: 1 } });
    await t.mutation((ctx) => short.log(ctx, { action: "x", actor, outcome: "success" }));
    const event = await runInGuard(t, async (ctx) => (await ctx.db.query("auditEvents").first())!);
    await seal(t);
    vi.setSystemTime(12 * DAY);
    await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
    const stub = await runInGuard(t, async (ctx) => (await ctx.db.query("auditRetained").first())!);
    // The right guess of the payload, unsalted or with any salt but the deleted one:
    const guess = payloadOf(event);
    expect(stub.payloadHash).not.toBe(await sha256Hex(canonicalJson(guess)));
    expect(stub.payloadHash).not.toBe(await payloadHash(guess, { payloadSalt: "0".repeat(32) }));
    expect(stub.payloadHash).toBe(await payloadHash(guess, event));
    expect((await verify(t, { stalledAfterMs: 10 * DAY })).break).toBeNull();
  });

  test("an unsealed row with a malformed hash is set aside; sealing continues and verify reports it", async () => {
    const t = guardTest();
    await logSome(t, 3);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await runInGuard(t, async (ctx) => {
      const e = (await ctx.db.query("auditEvents").first())!;
      await ctx.db.patch("auditEvents", e._id, { leafHash: "zz" });
    });
    expect(await seal(t)).toEqual({ processed: 3, more: false });
    expect(await seal(t)).toEqual({ processed: 0, more: false });
    expect(errors).toHaveBeenCalledTimes(1);
    errors.mockRestore();
    const sealed = await runInGuard(t, async (ctx) =>
      (await ctx.db.query("auditEvents").collect()).filter((e) => e.seq !== undefined),
    );
    expect(sealed).toHaveLength(2);
    const r = await verify(t);
    expect(r.break).toMatchObject({ kind: "event_unsealed" });
    expect(r.break?.message).toContain("set event");
  });
});

describe("exports and redaction paths", () => {
  test.each([
    ["=2+2", "'=2+2"],
    [" =2+2", "' =2+2"],
    ["\t=1", '"\'\t=1"'],
    ["a;b", '"a;b"'],
    ['say "hi"', '"say ""hi"""'],
    ["-1", "'-1"],
    ["plain", "plain"],
  ])("csv cell %j is written as %j", (cell, out) => {
    expect(csvCell(cell)).toBe(out);
  });

  test("a redaction path naming an inherited property never makes log throw", async () => {
    vi.useFakeTimers();
    const t = guardTest();
    const inherited = new AuditLog(components.guard, {
      redact: ["metadata.constructor", "metadata.__proto__"],
    });
    const id = await t.mutation((ctx) =>
      inherited.log(ctx, { action: "x", actor, outcome: "success", metadata: { n: 1 } }),
    );
    expect((await t.query((ctx) => inherited.get(ctx, id)))?.metadata).toEqual({ n: 1 });
    await seal(t);
    expect((await verify(t)).break).toBeNull();
    vi.useRealTimers();
  });
});

describe("external anchors", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(10 * DAY);
  });
  afterEach(() => vi.useRealTimers());

  test("verify({ anchor }) passes on an untouched log and fails on a consistently rewritten one", async () => {
    const t = guardTest();
    await logSome(t, 2);
    await seal(t);
    const head = (await t.query((ctx) => audit.head(ctx)))!;
    expect(head.anchor).toBe(`cg1:${head.n}:${head.hash}`);
    await logSome(t, 1);
    await seal(t);
    expect((await verify(t, { anchor: head.anchor })).ok).toBe(true);
    // Rewrite the whole chain consistently: every hash recomputed.
    await runInGuard(t, async (ctx) => {
      let prevHash = "0".repeat(64);
      for (const s of await ctx.db.query("auditSeals").withIndex("by_n").collect()) {
        const edited = { ...s, prevHash, root: s.n === 0 ? await sha256Hex("x") : s.root };
        const hash = await sealHash(edited);
        await ctx.db.patch("auditSeals", s._id, { prevHash, root: edited.root, hash });
        prevHash = hash;
      }
    });
    const rewritten = await verify(t, { anchor: head.anchor });
    expect(rewritten.break).toMatchObject({ kind: "anchor_mismatch" });
    await expectCode(verify(t, { anchor: "cg1:x" }), ErrorCode.INVALID_ARGUMENT);
  });
});

describe("erasure tombstones", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(10 * DAY);
  });
  afterEach(() => vi.useRealTimers());

  const shortLived = new AuditLog(components.guard, {
    redact: ["context.ip"],
    retention: { days: 1 },
  });

  test("a tombstone naming a missing erase event is reported; one whose erase event retention deleted is not", async () => {
    const t = guardTest();
    const [id] = await logSome(t, 1); // kept 30 days
    await seal(t);
    // The erase event is kept 1 day only: retention deletes it first.
    await t.mutation((ctx) => shortLived.erase(ctx, { subject: { type: "doc", id: "d0" } }));
    await seal(t);
    expect((await verify(t)).break).toBeNull();
    // An admin points the tombstone at an event that never erased anything (logged, then deleted unsealed).
    const other = await t.mutation((ctx) =>
      audit.log(ctx, { action: "x", actor, outcome: "success" }),
    );
    const erasedBy = await runInGuard(t, async (ctx) => {
      const row = (await ctx.db.query("auditSecrets").first())!;
      await ctx.db.delete("auditEvents", other as never);
      const erased = row.erased!;
      await ctx.db.patch("auditSecrets", row._id, {
        erased: { ...erased, by: ctx.db.normalizeId("auditEvents", other)! },
      });
      return erased;
    });
    expect((await verify(t)).break).toMatchObject({
      kind: "secret_mismatch",
      message: expect.stringMatching(/missing erase event/),
    });
    await runInGuard(t, async (ctx) => {
      const row = (await ctx.db.query("auditSecrets").first())!;
      await ctx.db.patch("auditSecrets", row._id, { erased: erasedBy });
    });
    vi.setSystemTime(12 * DAY);
    await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
    await seal(t);
    const retained = await runInGuard(t, async (ctx) => ctx.db.query("auditRetained").collect());
    expect(retained.length).toBeGreaterThan(0);
    expect(
      await t.query((ctx) => ctx.runQuery(components.guard.audit.get, { id: erasedBy.by })),
    ).toBeNull(); // the erase event is gone, its stub stays
    expect((await t.query((ctx) => audit.get(ctx, id!, { reveal: true })))!.erased).toEqual([
      "context.ip",
      "metadata.email",
    ]);
    expect((await verify(t)).break).toBeNull();
  });
});
