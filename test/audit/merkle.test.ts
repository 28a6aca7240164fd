import { describe, expect, test } from "vitest";
import fc from "fast-check";
import {
  inclusionPath,
  leafHash,
  merkleRoot,
  nodeHash,
  rootFromPath,
  sealHash,
  GENESIS_HASH,
} from "../../src/component/audit/merkle.js";

describe("RFC 6962 Merkle trees", () => {
  test("known vectors: empty tree and empty leaf", async () => {
    expect(await merkleRoot([])).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(await leafHash(new Uint8Array(0))).toBe(
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    );
  });

  test("a leaf never equals a node over the same bytes", async () => {
    const a = await leafHash("a");
    const b = await leafHash("b");
    expect(await nodeHash(a, b)).not.toBe(await leafHash(a + b));
  });

  test("root of 1..3 leaves follows the split rule", async () => {
    const l = await Promise.all(["a", "b", "c"].map((x) => leafHash(x)));
    expect(await merkleRoot([l[0]!])).toBe(l[0]);
    expect(await merkleRoot(l)).toBe(await nodeHash(await nodeHash(l[0]!, l[1]!), l[2]!));
  });

  test("every inclusion path of every tree up to 24 leaves rebuilds the root; wrong index or leaf does not", async () => {
    const all = await Promise.all(Array.from({ length: 24 }, (_, i) => leafHash(`leaf ${i}`)));
    for (let n = 1; n <= 24; n++) {
      const leaves = all.slice(0, n);
      const root = await merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const path = await inclusionPath(leaves, i);
        expect(await rootFromPath(leaves[i]!, i, n, path)).toBe(root);
        if (n > 1) {
          expect(await rootFromPath(leaves[(i + 1) % n]!, i, n, path)).not.toBe(root);
          expect(await rootFromPath(leaves[i]!, (i + 1) % n, n, path)).not.toBe(root);
        }
      }
    }
  });

  test("property: a swap of two distinct leaves changes the root", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 40 }), fc.nat(), fc.nat(), async (n, a, b) => {
        const i = a % n;
        const j = b % n;
        fc.pre(i !== j);
        const leaves = await Promise.all(Array.from({ length: n }, (_, k) => leafHash(`x${k}`)));
        const swapped = [...leaves];
        [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
        expect(await merkleRoot(swapped)).not.toBe(await merkleRoot(leaves));
      }),
      { numRuns: 50 },
    );
  });

  test("seal hash covers every header field", async () => {
    const h = {
      n: 3,
      fromSeq: 10,
      toSeq: 12,
      root: "ab".repeat(32),
      prevHash: GENESIS_HASH,
      sealedAt: 5,
      upTo: 7n,
      commits: "ef".repeat(32),
      skips: ["12".repeat(32)],
    };
    const base = await sealHash(h);
    for (const change of [
      { n: 4 },
      { fromSeq: 11 },
      { toSeq: 13 },
      { root: "cd".repeat(32) },
      { prevHash: "1".repeat(64) },
      { sealedAt: 6 },
      { upTo: 8n },
      { commits: "fe".repeat(32) },
      { skips: [] },
      { skips: ["21".repeat(32)] },
    ]) {
      expect(await sealHash({ ...h, ...change })).not.toBe(base);
    }
  });
});
