import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import fc from "fast-check";
import { AuditLog, HOUR, verifyProof } from "convex-guard";
import type { AuditProof } from "../../src/client/auditLog.js";
import { components, guardTest, measureQuery, runInGuard } from "../setup.js";
import { sealBatch } from "../../src/component/audit/chain.js";
import { sealHash } from "../../src/component/audit/merkle.js";
import { MAX_PROOF_READS } from "../../src/component/audit/model.js";
import {
  MAX_SKIP_PATH,
  linkSlot,
  skipPath,
  skipTargets,
  trailingZeros,
} from "../../src/component/audit/skips.js";

/*
 * Proofs stay compact however old the event is: seals skip-link to older
 * ones (skips.ts), so a proof holds O(log n) seals. The long logs here are
 * hourly empty seals written by the real sealer on a fake clock (months of
 * idle time), many per transaction.
 */

const audit = new AuditLog(components.guard, { redact: ["context.ip"] });
const actor = { type: "user", id: "ada" };
type T = ReturnType<typeof guardTest>;

/** Appends `count` hourly empty seals, 500 per transaction. */
async function idleHours(t: T, count: number) {
  for (let done = 0; done < count;) {
    const chunk = Math.min(500, count - done);
    await runInGuard(t, async (ctx) => {
      for (let i = 0; i < chunk; i++) {
        vi.setSystemTime(Date.now() + HOUR); // no timers run: the maintenance loop stays put
        await sealBatch(ctx, Date.now());
      }
    });
    done += chunk;
  }
}

async function logAndSeal(t: T, i: number) {
  const id = await t.mutation((ctx) =>
    audit.log(ctx, {
      action: "doc.edit",
      actor,
      outcome: "success",
      context: { ip: `10.0.0.${i}` },
      metadata: { i },
    }),
  );
  await t.mutation((ctx) => audit.seal(ctx));
  return id;
}

async function proofOf(t: T, id: string, headN?: number) {
  const event = (await t.query((ctx) => audit.get(ctx, id, { reveal: true })))!;
  const { result, cost } = await measureQuery(t, (ctx) => audit.proof(ctx, id, { headN }));
  return { event, proof: result!, reads: cost.documentsRead };
}

describe("skip links (pure)", () => {
  test("every path is linked seal to seal and at most 2·log2(h) + 1 long", () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.nat({ max: 2 ** 40 }), (a, b) => {
        const [k, h] = a <= b ? [a, b] : [b, a];
        const path = skipPath(k, h);
        expect(path[0]).toBe(k);
        expect(path[path.length - 1]).toBe(h);
        for (let i = 1; i < path.length; i++)
          expect(linkSlot(path[i - 1]!, path[i]!)).not.toBeNull();
        expect(path.length).toBeLessThanOrEqual(2 * Math.log2(Math.max(h, 1)) + 2);
        expect(path.length).toBeLessThanOrEqual(MAX_SKIP_PATH);
      }),
    );
  });

  test("seal n names seals n-2, …, n-2^tz(n); links exist exactly for those and n-1", () => {
    expect(skipTargets(0)).toEqual([]);
    expect(skipTargets(7)).toEqual([]);
    expect(skipTargets(8)).toEqual([6, 4, 0]);
    expect(skipTargets(12)).toEqual([10, 8]);
    expect(trailingZeros(2 ** 52)).toBe(52);
    expect(linkSlot(7, 8)).toBe(0);
    expect(linkSlot(0, 8)).toBe(3);
    expect(linkSlot(4, 12)).toBeNull(); // 12 links back by 1, 2, 4 only
    expect(linkSlot(5, 8)).toBeNull();
    expect(linkSlot(8, 8)).toBeNull();
    expect(linkSlot(-8, 8)).toBeNull();
  });
});

describe("compact proofs", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000 * HOUR);
  });
  afterEach(() => vi.useRealTimers());

  test("a proof holds O(log n) seals and reads a bounded number of documents, after months idle", async () => {
    const t = guardTest();
    const first = await logAndSeal(t, 0); // seal 0
    const sizes: Record<number, number> = {};
    let reads = 0;
    for (const total of [64, 512, 2_200]) {
      const head = (await t.query((ctx) => audit.head(ctx)))!;
      await idleHours(t, total - head.n - 1);
      const { event, proof, reads: r } = await proofOf(t, first);
      const now = (await t.query((ctx) => audit.head(ctx)))!;
      expect(now.n).toBe(total - 1);
      expect(await verifyProof(event, proof, now.hash)).toBe(true);
      expect(proof.seals.length).toBeLessThanOrEqual(2 * Math.log2(total) + 1);
      sizes[total] = proof.seals.length;
      reads = Math.max(reads, r);
    }
    // 2,200 hourly seals are 91 idle days, past the 1,000 seals proofs once carried.
    expect(reads).toBeLessThanOrEqual(MAX_PROOF_READS);
    console.log("proof seals by log size (seals):", sizes, "documents read:", reads);
    // An event in the middle of the chain and one next to the head.
    const middle = await logAndSeal(t, 1);
    await idleHours(t, 300);
    const recent = await logAndSeal(t, 2);
    const head = (await t.query((ctx) => audit.head(ctx)))!;
    for (const id of [first, middle, recent]) {
      const { event, proof } = await proofOf(t, id);
      expect(await verifyProof(event, proof, head.hash)).toBe(true);
      expect(proof.seals.length).toBeLessThanOrEqual(2 * Math.log2(head.n) + 1);
    }
    // verify walks the whole chain (pages of at most 514 seals) and finds nothing.
    let cursor: string | null = null;
    for (let page = 0; ; page++) {
      const v = await t.query((ctx) => audit.verify(ctx, { cursor }));
      expect(v.break, v.break?.message).toBeNull();
      if (v.done) break;
      expect(page).toBeLessThan(10);
      cursor = v.cursor;
    }
  }, 120_000);

  test("a proof up to an anchored older seal (headN) checks against that seal's hash", async () => {
    const t = guardTest();
    const id = await logAndSeal(t, 0);
    await idleHours(t, 100);
    const anchored = (await t.query((ctx) => audit.head(ctx)))!;
    await idleHours(t, 100);
    const { event, proof } = await proofOf(t, id, anchored.n);
    expect(proof.seals[proof.seals.length - 1]!.n).toBe(anchored.n);
    expect(await verifyProof(event, proof, anchored.hash)).toBe(true);
    const head = (await t.query((ctx) => audit.head(ctx)))!;
    expect(await verifyProof(event, proof, head.hash)).toBe(false);
  }, 60_000);

  test("tampered proofs fail", async () => {
    const t = guardTest();
    const id = await logAndSeal(t, 0);
    await idleHours(t, 3);
    await logAndSeal(t, 1);
    await idleHours(t, 200);
    const head = (await t.query((ctx) => audit.head(ctx)))!;
    const { event, proof } = await proofOf(t, id);
    expect(proof.seals.length).toBeGreaterThan(3);
    expect(await verifyProof(event, proof, head.hash)).toBe(true);
    const seals = proof.seals;
    const mid = 1 + Math.floor((seals.length - 2) / 2);
    const variants: Record<string, AuditProof> = {
      "a seal left out": { ...proof, seals: seals.filter((_, i) => i !== mid) },
      "seals out of order": { ...proof, seals: [seals[0]!, ...seals.slice(1).reverse()] },
      "the head left out": { ...proof, seals: seals.slice(0, -1) },
      "a seal repeated": {
        ...proof,
        seals: [...seals.slice(0, mid), seals[mid]!, ...seals.slice(mid)],
      },
      "a skip link edited": {
        ...proof,
        seals: seals.map((s) =>
          s.skips.length > 0 ? { ...s, skips: ["f".repeat(64), ...s.skips.slice(1)] } : s,
        ),
      },
      "another index": { ...proof, index: proof.index + 1 },
      "another seq": { ...proof, seq: proof.seq + 1 },
      "a path entry edited": { ...proof, path: ["0".repeat(64), ...proof.path.slice(1)] },
      "a root edited": {
        ...proof,
        seals: [{ ...seals[0]!, root: "1".repeat(64) }, ...seals.slice(1)],
      },
    };
    // A seal that re-hashes after an edit still breaks the link the next seal holds.
    const forged = { ...seals[mid]!, sealedAt: seals[mid]!.sealedAt + 1 };
    forged.hash = await sealHash(forged);
    variants["a seal edited and re-hashed"] = {
      ...proof,
      seals: seals.map((s, i) => (i === mid ? forged : s)),
    };
    // A forged chain of seals linked by a distance no seal links (3 back).
    variants["a jump of 3"] = {
      ...proof,
      seals: [seals[0]!, { ...seals[seals.length - 1]!, n: seals[0]!.n + 3 }],
    };
    for (const [name, p] of Object.entries(variants))
      expect(await verifyProof(event, p, head.hash), name).toBe(false);
    // Revealed values still count only with their commitment's salt.
    const forgedIp = { ...event, context: { ...event.context, ip: "6.6.6.6" } };
    expect(await verifyProof(forgedIp, proof, head.hash)).toBe(false);
    expect(await verifyProof(event, proof, head.hash)).toBe(true);
  }, 60_000);

  test("verify reports a skip link that names a seal not in the chain", async () => {
    const t = guardTest();
    await logAndSeal(t, 0);
    await idleHours(t, 8); // seal 8 links to 7, 6, 4 and 0
    await runInGuard(t, async (ctx) => {
      const s = (await ctx.db
        .query("auditSeals")
        .withIndex("by_n", (q) => q.eq("n", 8))
        .first())!;
      const skips = [s.skips[0]!, "e".repeat(64), s.skips[2]!];
      await ctx.db.patch("auditSeals", s._id, { skips, hash: await sealHash({ ...s, skips }) });
      // Later seals re-chained to the edited one, as a careful admin would.
      let prev = await sealHash({ ...s, skips });
      for (const later of await ctx.db
        .query("auditSeals")
        .withIndex("by_n", (q) => q.gt("n", 8))
        .collect()) {
        const hash = await sealHash({ ...later, prevHash: prev });
        await ctx.db.patch("auditSeals", later._id, { prevHash: prev, hash });
        prev = hash;
      }
    });
    const v = await t.query((ctx) => audit.verify(ctx, {}));
    expect(v.break).toMatchObject({ kind: "seal_edited", seal: 8 });
    expect(v.break!.message).toMatch(/skips to a seal 4/);
  });
});
