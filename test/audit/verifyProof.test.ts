import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import fc from "fast-check";
import { AuditLog, HOUR, verifyProof } from "convex-guard";
import type { AuditEvent, AuditProof } from "../../src/client/auditLog.js";
import { components, guardTest, runInGuard } from "../setup.js";
import { sealBatch } from "../../src/component/audit/chain.js";

/*
 * `verifyProof` runs on whatever a caller hands it (a proof read back from
 * storage, a file, another service): anything that is not a genuine proof of
 * the event up to the head answers false, and nothing makes it throw.
 */

const audit = new AuditLog(components.guard, { redact: ["context.ip"] });
let event: AuditEvent;
let proof: AuditProof;
let headHash: string;

beforeAll(async () => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000 * HOUR);
  const t = guardTest();
  const actor = { type: "user", id: "ada" };
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    ids.push(
      await t.mutation((ctx) =>
        audit.log(ctx, {
          action: "doc.edit",
          actor,
          outcome: "success",
          context: { ip: `10.0.0.${i}` },
          metadata: { i },
        }),
      ),
    );
  }
  await t.mutation((ctx) => audit.seal(ctx));
  // Twelve idle hours of empty seals: the proof carries skip links.
  await runInGuard(t, async (ctx) => {
    for (let i = 0; i < 12; i++) {
      vi.setSystemTime(Date.now() + HOUR);
      await sealBatch(ctx, Date.now());
    }
  });
  event = (await t.query((ctx) => audit.get(ctx, ids[1]!, { reveal: true })))!;
  proof = (await t.query((ctx) => audit.proof(ctx, ids[1]!)))!;
  headHash = (await t.query((ctx) => audit.head(ctx)))!.hash;
});
afterAll(() => vi.useRealTimers());

/** `verifyProof` on arguments of any type: it must resolve to a boolean. */
async function check(e: unknown, p: unknown, h: unknown): Promise<boolean> {
  const verify = verifyProof as (e: unknown, p: unknown, h: unknown) => Promise<boolean>;
  const result = await verify(e, p, h);
  expect(typeof result).toBe("boolean");
  return result;
}

/** A copy of `root` with the value at `path` replaced (or deleted, for `undefined`). */
function replaced(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy: any = Array.isArray(root) ? [...root] : { ...(root as object) };
  copy[head!] = replaced(copy[head!], rest, value);
  if (value === undefined && rest.length === 0) delete copy[head!];
  return copy;
}

/** Every path to a value inside `x` (containers and leaves). */
function pathsOf(x: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(x)) x.forEach((y, i) => out.push(...pathsOf(y, [...at, i])));
  else if (x !== null && typeof x === "object")
    for (const [k, y] of Object.entries(x)) out.push(...pathsOf(y, [...at, k]));
  return out;
}

describe("verifyProof returns false for any malformed proof and never throws", () => {
  test("the genuine proof holds", async () => {
    expect(proof.seals.length).toBeGreaterThan(2);
    expect(proof.seals.some((s) => s.skips.length > 0)).toBe(true);
    expect(await check(event, proof, headHash)).toBe(true);
  });

  const huge = (n: number, x: unknown) => Array.from({ length: n }, () => x);
  const cases: [string, () => [unknown, unknown, unknown]][] = [
    ["proof null", () => [event, null, headHash]],
    ["proof undefined", () => [event, undefined, headHash]],
    ["proof a number", () => [event, 42, headHash]],
    ["proof a string", () => [event, "proof", headHash]],
    ["proof an array", () => [event, [proof], headHash]],
    ["seals null", () => [event, { ...proof, seals: null }, headHash]],
    ["no seals", () => [event, { ...proof, seals: [] }, headHash]],
    ["seals an object", () => [event, { ...proof, seals: { 0: proof.seals[0] } }, headHash]],
    ["a seal null", () => [event, { ...proof, seals: [null, ...proof.seals] }, headHash]],
    ["100,000 seals", () => [event, { ...proof, seals: huge(100_000, proof.seals[0]) }, headHash]],
    ["path null", () => [event, { ...proof, path: null }, headHash]],
    ["a path entry not hex", () => [event, { ...proof, path: ["zz".repeat(32)] }, headHash]],
    ["a path entry 62 digits", () => [event, { ...proof, path: ["ab".repeat(31)] }, headHash]],
    ["a path entry a number", () => [event, { ...proof, path: [7] }, headHash]],
    [
      "1,000,000 path entries",
      () => [event, { ...proof, path: huge(1e6, "ab".repeat(32)) }, headHash],
    ],
    ["index a string", () => [event, { ...proof, index: "0" }, headHash]],
    ["index NaN", () => [event, { ...proof, index: NaN }, headHash]],
    ["index negative", () => [event, { ...proof, index: -1 }, headHash]],
    ["size 1e300", () => [event, { ...proof, size: 1e300 }, headHash]],
    ["seq a bigint", () => [event, { ...proof, seq: 1n }, headHash]],
    ["an unknown field", () => [event, { ...proof, extra: 1 }, headHash]],
    ...(["root", "prevHash", "hash", "commits"] as const).flatMap(
      (f) =>
        [
          [`a seal's ${f} not hex`, () => [event, sealWith({ [f]: "xy".repeat(32) }), headHash]],
          [`a seal's ${f} too short`, () => [event, sealWith({ [f]: "ab" }), headHash]],
          [`a seal's ${f} null`, () => [event, sealWith({ [f]: null }), headHash]],
        ] as [string, () => [unknown, unknown, unknown]][],
    ),
    ["skips null", () => [event, sealWith({ skips: null }), headHash]],
    ["a skip not hex", () => [event, sealWith({ skips: ["not hex"] }), headHash]],
    ["100,000 skips", () => [event, sealWith({ skips: huge(1e5, "ab".repeat(32)) }), headHash]],
    ["upTo a number", () => [event, sealWith({ upTo: 5 }), headHash]],
    ["upTo an object", () => [event, sealWith({ upTo: { toString: null } }), headHash]],
    ["n a string", () => [event, sealWith({ n: "0" }), headHash]],
    ["event null", () => [null, proof, headHash]],
    ["event empty", () => [{}, proof, headHash]],
    ["event seq a string", () => [{ ...event, seq: String(event.seq) }, proof, headHash]],
    ["event redacted null", () => [{ ...event, redacted: null }, proof, headHash]],
    ["event salts not hex", () => [saltsNotHex(), proof, headHash]],
    ["event payloadSalt a number", () => [{ ...event, payloadSalt: 1 }, proof, headHash]],
    ["event actor null", () => [{ ...event, actor: null }, proof, headHash]],
    [
      "event targets 100,000 nulls",
      () => [{ ...event, targets: huge(1e5, null) }, proof, headHash],
    ],
    ["head hash null", () => [event, proof, null]],
    ["head hash not hex", () => [event, proof, "zz".repeat(32)]],
    ["head hash upper case", () => [event, proof, headHash.toUpperCase()]],
  ];

  function sealWith(fields: Record<string, unknown>): unknown {
    const [first, ...rest] = proof.seals;
    return { ...proof, seals: [{ ...first, ...fields }, ...rest] };
  }
  function saltsNotHex(): unknown {
    return { ...event, salts: event.salts?.map((s) => ({ ...s, salt: "not hex" })) };
  }

  test.each(cases)("%s → false", async (_name, args) => {
    const [e, p, h] = args();
    expect(await check(e, p, h)).toBe(false);
  });

  test("any value at any place in the proof: false unless it is the genuine one", async () => {
    const places = pathsOf(proof);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...places),
        fc.anything({ maxDepth: 2, withBigInt: true, withNullPrototype: true }),
        async (path, value) => {
          const original = path.reduce<any>((x, k) => x?.[k], proof);
          fc.pre(!isDeepStrictEqual(original, value));
          expect(await check(event, replaced(proof, path, value), headHash)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("any value at any place in the event: a boolean, never a throw", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...pathsOf(event)),
        fc.anything({ maxDepth: 2, withBigInt: true, withNullPrototype: true }),
        async (path, value) => {
          await check(replaced(event, path, value), proof, headHash);
        },
      ),
      { numRuns: 300 },
    );
  });
});
