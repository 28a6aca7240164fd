import { describe, expect, test } from "vitest";
import fc from "fast-check";
import {
  ALPHANUMERIC,
  DIGITS,
  codeMac,
  codeVerifier,
  encodeFields,
  generateCode,
  limitKey,
  normalizeCode,
  payloadDigest,
  payloadMac,
  payloadVerifier,
  randomIndices,
  type MacInput,
} from "../../src/component/codes/crypto.js";
import { byteLength } from "../../src/component/lib/validate.js";

/** Feeds the sampler every byte value 0..255 once, in order, then repeats. */
function everyByteOnce() {
  let next = 0;
  return (b: Uint8Array) => {
    for (let i = 0; i < b.length; i++) b[i] = next++ % 256;
  };
}

describe("code generation", () => {
  test.each([
    [10, 250],
    [31, 248],
  ])(
    "rejection sampling: over all 256 byte values, each of %i symbols comes out equally often",
    (n, accepted) => {
      const counts = new Array<number>(n).fill(0);
      for (const i of randomIndices(n, accepted, everyByteOnce())) counts[i]!++;
      // With `byte % n` alone, the low symbols would come out one more time than the others.
      expect(new Set(counts)).toEqual(new Set([accepted / n]));
    },
  );

  test("bytes at or above the largest multiple of the alphabet size are skipped", () => {
    // 250..255 would map to 0..5 and bias them; the sampler must draw again.
    const feed = [250, 251, 252, 253, 254, 255, 7];
    const out = randomIndices(10, 1, (b) => b.forEach((_, i) => (b[i] = feed[i] ?? 0)));
    expect(out).toEqual([7]);
  });

  test("codes have the requested length and alphabet", () => {
    for (let length = 6; length <= 12; length++)
      expect(generateCode({ alphabet: "digits", length })).toMatch(new RegExp(`^\\d{${length}}$`));
    expect(generateCode({ alphabet: "alphanumeric", length: 40 })).toMatch(
      /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{40}$/,
    );
  });

  test("the alphanumeric alphabet has 31 distinct symbols and no look-alikes", () => {
    expect(new Set(ALPHANUMERIC).size).toBe(31);
    for (const c of "01OIL") expect(ALPHANUMERIC).not.toContain(c);
    expect(DIGITS).toBe("0123456789");
  });

  test("crypto.getRandomValues output is roughly uniform per position (chi-square, p < 1e-6 to fail)", () => {
    const counts = Array.from({ length: 6 }, () => new Array<number>(10).fill(0));
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      const code = generateCode({ alphabet: "digits", length: 6 });
      for (let p = 0; p < 6; p++) counts[p]![Number(code[p])]!++;
    }
    for (const row of counts) {
      const chi = row.reduce((s, c) => s + (c - N / 10) ** 2 / (N / 10), 0);
      expect(chi).toBeLessThan(46.5); // 9 degrees of freedom, p = 1e-6
    }
  });
});

describe("MAC encoding", () => {
  function decode(bytes: Uint8Array): string[] {
    const out: string[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < bytes.length;) {
      const len = view.getUint32(at, false);
      out.push(new TextDecoder().decode(bytes.slice(at + 4, at + 4 + len)));
      at += 4 + len;
    }
    return out;
  }

  test("length-prefixed fields decode back to exactly the fields (so no two field lists collide)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme" }), { maxLength: 7 }), (fields) => {
        expect(decode(encodeFields(fields))).toEqual(fields);
      }),
    );
    expect(encodeFields(["ab", "c"])).not.toEqual(encodeFields(["a", "bc"]));
  });

  const base: MacInput = {
    secret: "k".repeat(32),
    subject: "s",
    action: "a",
    payloadDigest: "d",
  };

  test("changing any single input changes the code MAC", async () => {
    const mac = await codeMac(base, "123456");
    const variants = [
      codeMac({ ...base, secret: "j".repeat(32) }, "123456"),
      codeMac({ ...base, subject: "s2" }, "123456"),
      codeMac({ ...base, action: "a2" }, "123456"),
      codeMac({ ...base, payloadDigest: "e" }, "123456"),
      codeMac(base, "123457"),
      // moving a character across a field boundary
      codeMac({ ...base, subject: "sa", action: "" }, "123456"),
    ];
    for (const v of await Promise.all(variants)) expect(v).not.toBe(mac);
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
  });

  test("the payload tag is domain-separated from the code MAC and does not depend on the code", async () => {
    expect(await payloadMac(base)).not.toBe(await codeMac(base, ""));
    expect(await payloadMac({ ...base, payloadDigest: "e" })).not.toBe(await payloadMac(base));
  });

  test("the payload digest is canonical: key order does not matter, values do", async () => {
    expect(await payloadDigest({ a: 1, b: [1, 2] })).toBe(await payloadDigest({ b: [1, 2], a: 1 }));
    expect(await payloadDigest({ a: 1 })).not.toBe(await payloadDigest({ a: "1" }));
    expect(await payloadDigest(undefined)).toBe(await payloadDigest(null));
  });

  test("limiter keys fit 256 bytes and keep (subject, action) pairs apart", async () => {
    const k = await limitKey("s".repeat(256), "a".repeat(256));
    expect(byteLength(k)).toBe(64);
    expect(await limitKey("a|b", "c")).not.toBe(await limitKey("a", "b|c"));
  });

  test("normalization removes spaces and hyphens and upper-cases (both alphabets are upper-case)", () => {
    expect(normalizeCode(" 123-456 ")).toBe("123456");
    expect(normalizeCode("abc-def")).toBe("ABCDEF");
    expect(normalizeCode("12.34")).toBe("12.34");
  });

  test("stored verifiers are salted by the code id and keep the two domains apart", async () => {
    const mac = await codeMac(base, "123456");
    const v1 = await codeVerifier("id1", mac);
    expect(v1).toMatch(/^[0-9a-f]{64}$/);
    expect(await codeVerifier("id2", mac)).not.toBe(v1);
    expect(await payloadVerifier("id1", mac)).not.toBe(v1);
    expect(v1).not.toContain(mac);
  });
});
