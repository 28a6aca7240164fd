import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import fc from "fast-check";
import { AuditLog, DAY, HOUR } from "convex-guard";
import { components, guardTest } from "../setup.js";
import { eventLeaf, payloadHash, payloadOf } from "../../src/component/audit/leaf.js";
import { sealHash } from "../../src/component/audit/merkle.js";

/*
 * Tamper test: build a sealed log (several seals of different sizes, an empty
 * seal, some events retained), make ONE random edit, deletion, insertion or
 * reordering directly in the component's tables, and check that `verify`
 * reports the first break at the right event or seal. Without tampering it
 * reports none.
 */

const shortLived = new AuditLog(components.guard, { retention: { days: 1 } });
const audit = new AuditLog(components.guard, { retention: { days: 365 } });
type T = ReturnType<typeof guardTest>;
const inGuard = <R>(t: T, fn: (ctx: any) => Promise<R>): Promise<R> =>
  (t as any).runInComponent("guard", fn);

async function buildLog(t: T, sizes: number[]) {
  let now = 1_000_000;
  vi.setSystemTime(now);
  for (let i = 0; i < 5; i++) {
    await t.mutation((ctx) =>
      shortLived.log(ctx, {
        action: "old.event",
        actor: { type: "user", id: `u${i}` },
        outcome: "success",
      }),
    );
  }
  await t.mutation((ctx) => audit.seal(ctx));
  now += 2 * DAY;
  vi.setSystemTime(now);
  await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {})); // retains seq 0..4
  let n = 0;
  for (const size of sizes) {
    for (let i = 0; i < size; i++) {
      await t.mutation((ctx) =>
        audit.log(ctx, {
          action: n % 3 === 0 ? "doc.edit" : "user.login",
          actor: { type: "user", id: `a${n % 4}` },
          targets: [{ type: "doc", id: `d${n % 5}` }],
          outcome: n % 7 === 0 ? "denied" : "success",
          metadata: { n },
        }),
      );
      n++;
    }
    now += 10_000;
    vi.setSystemTime(now);
    await t.mutation((ctx) => audit.seal(ctx));
  }
  now += 2 * HOUR;
  vi.setSystemTime(now);
  await t.mutation((ctx) => audit.seal(ctx)); // an empty seal
}

async function verifyAll(t: T, maxEvents?: number) {
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const r: any = await t.query((ctx) => audit.verify(ctx, { cursor, maxEvents }));
    if (r.done) return r;
    cursor = r.cursor;
  }
  throw new Error("verify did not finish");
}

const tamperKinds = [
  "editField",
  "editFieldAndLeaf",
  "editRetainUntil",
  "deleteEvent",
  "duplicateSeq",
  "insertBeyond",
  "swapSeq",
  "editSealRoot",
  "editSealRehash",
  "deleteSeal",
  "deleteLastSeal",
  "deleteStub",
  "forgeEarlyRetention",
] as const;
type Kind = (typeof tamperKinds)[number];

/** Applies the tamper; returns what verify must report. */
async function tamper(t: T, kind: Kind, pick: number, pick2: number) {
  return inGuard(t, async (ctx) => {
    const events = (await ctx.db
      .query("auditEvents")
      .withIndex("by_seq", (q: any) => q.gte("seq", 0))
      .collect()) as any[];
    const seals = (await ctx.db.query("auditSeals").withIndex("by_n").collect()) as any[];
    const stubs = (await ctx.db.query("auditRetained").collect()) as any[];
    const e = events[pick % events.length];
    const sealOfSeq = (seq: number) => seals.find((s) => s.fromSeq <= seq && seq <= s.toSeq).n;
    const nonEmpty = seals.filter((s) => s.toSeq >= s.fromSeq);
    switch (kind) {
      case "editField":
        await ctx.db.patch(e._id, { outcome: e.outcome === "success" ? "failure" : "success" });
        return { kind: "event_edited", seq: e.seq };
      case "editFieldAndLeaf": {
        const edited = { ...e, metadata: { n: -1 } };
        const leaf = await eventLeaf(edited);
        await ctx.db.patch(e._id, { metadata: { n: -1 }, leafHash: leaf });
        return { kind: "root_mismatch", seal: sealOfSeq(e.seq) };
      }
      case "editRetainUntil":
        await ctx.db.patch(e._id, { retainUntil: 0 });
        return { kind: "event_edited", seq: e.seq };
      case "deleteEvent":
        await ctx.db.delete(e._id);
        return { kind: "event_deleted", seq: e.seq };
      case "duplicateSeq": {
        const { _id, _creationTime, ...rest } = e;
        await ctx.db.insert("auditEvents", { ...rest, action: "forged" });
        return { kind: "event_inserted", seq: e.seq };
      }
      case "insertBeyond": {
        const { _id, _creationTime, ...rest } = e;
        const seq = seals[seals.length - 1].toSeq + 1;
        await ctx.db.insert("auditEvents", { ...rest, seq });
        return { kind: "event_inserted", seq };
      }
      case "swapSeq": {
        let f = events[pick2 % events.length];
        if (f._id === e._id) f = events[(pick2 + 1) % events.length];
        await ctx.db.patch(e._id, { seq: f.seq });
        await ctx.db.patch(f._id, { seq: e.seq });
        return { kind: "root_mismatch", seal: Math.min(sealOfSeq(e.seq), sealOfSeq(f.seq)) };
      }
      case "editSealRoot": {
        const s = nonEmpty[pick % nonEmpty.length];
        await ctx.db.patch(s._id, { root: "00".repeat(32) });
        return { kind: "seal_edited", seal: s.n };
      }
      case "editSealRehash": {
        // A consistent rewrite of one seal (not the last): the next seal no longer chains to it.
        const s = seals[pick % (seals.length - 1)];
        const edited = { ...s, sealedAt: s.sealedAt + 1 };
        await ctx.db.patch(s._id, { sealedAt: edited.sealedAt, hash: await sealHash(edited) });
        return { kind: "seal_edited", seal: s.n + 1 };
      }
      case "deleteSeal": {
        const s = seals[pick % (seals.length - 1)];
        await ctx.db.delete(s._id);
        return { kind: "seal_deleted", seal: s.n };
      }
      case "deleteLastSeal": {
        // The newest non-empty seal and everything after it: its events now lie beyond the chain.
        const s = nonEmpty[nonEmpty.length - 1];
        for (const x of seals.filter((y) => y.n >= s.n)) await ctx.db.delete(x._id);
        return { kind: "event_inserted", seq: s.fromSeq };
      }
      case "deleteStub": {
        const st = stubs[pick % stubs.length];
        await ctx.db.delete(st._id);
        return { kind: "event_deleted", seq: st.seq };
      }
      case "forgeEarlyRetention": {
        // Delete an event that is not due and leave a stub, as retention would.
        await ctx.db.insert("auditRetained", {
          seq: e.seq,
          recordedAt: e.recordedAt,
          retainUntil: e.retainUntil,
          payloadHash: await payloadHash(payloadOf(e), e),
          commitTs: e.commitTs,
        });
        await ctx.db.delete(e._id);
        return { kind: "retained_early", seq: e.seq };
      }
    }
  });
}

describe("audit tamper evidence", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test("an untampered log verifies, across several verify pages, and reports the retained range", async () => {
    const t = guardTest();
    await buildLog(t, [3, 1, 8, 2]);
    const r = await verifyAll(t);
    expect(r.break).toBeNull();
    expect(r.ok).toBe(true);
    for (const maxEvents of [1, 2, 5]) {
      const paged = await verifyAll(t, maxEvents);
      expect(paged.break).toBeNull();
      expect(paged.head).toEqual(r.head);
    }
    const one = await t.query((ctx) => audit.verify(ctx, { maxEvents: 2 }));
    expect(one.done).toBe(false);
    expect(one.cursor).not.toBeNull();
    const head = await t.query((ctx) => audit.head(ctx));
    expect(r.head).toEqual({ n: head!.n, hash: head!.hash });
    const first = await t.query((ctx) => audit.verify(ctx));
    expect(first.retained).toEqual([{ fromSeq: 0, toSeq: 4 }]);
  });

  test("every random single tamper is reported at the right place", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...tamperKinds),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 5 }),
        fc.nat(),
        fc.nat(),
        fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
        async (kind, sizes, pick, pick2, maxEvents) => {
          const t = guardTest();
          await buildLog(t, sizes);
          expect((await verifyAll(t)).break).toBeNull();
          const expected = await tamper(t, kind, pick, pick2);
          const r = await verifyAll(t, maxEvents);
          expect(r.ok).toBe(false);
          expect(r.break).toMatchObject(expected);
        },
      ),
      { numRuns: Number(process.env.AUDIT_RUNS ?? 40) },
    );
  });

  test("a consistent rewrite of the newest seal is caught against an anchored head", async () => {
    const t = guardTest();
    await buildLog(t, [2, 2]);
    const anchored = await t.query((ctx) => audit.head(ctx));
    await inGuard(t, async (ctx) => {
      const s = await ctx.db.query("auditSeals").withIndex("by_n").order("desc").first();
      const edited = { ...s, sealedAt: s.sealedAt + 1 };
      await ctx.db.patch(s._id, { sealedAt: edited.sealedAt, hash: await sealHash(edited) });
    });
    const r = await verifyAll(t);
    expect(r.break).toBeNull(); // self-consistent: only the anchor can tell
    expect(r.head.hash).not.toBe(anchored!.hash);
  });
});
