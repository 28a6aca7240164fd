import type { Value } from "convex/values";
import { ErrorCode, guardError } from "../lib/errors.js";
import type { CodeAlphabet, CodeFormat } from "./model.js";
import { canonicalJson, concatBytes, hmacSha256Hex, sha256Hex, toHex, utf8 } from "../lib/hash.js";
import { max } from "../lib/math.js";

/**
 * Confirmation-code cryptography. Pure: no `ctx`, only WebCrypto. Split by
 * where it runs, so that no secret and no plaintext code ever crosses the
 * component boundary:
 *
 * Host side (the `Confirmations` client, inside the host's mutation, which
 * holds the secret and sees the code):
 *   codeMac    = HMAC-SHA-256(secret, "convex-guard/code/v2" | subject | action | payloadDigest | code)
 *   payloadMac = HMAC-SHA-256(secret, "convex-guard/payload/v2" | subject | action | payloadDigest)
 *   payloadDigest = hex SHA-256 of canonicalJson(payload)
 * where `|` is unambiguous framing (each field is its UTF-8 bytes preceded by
 * their length as 4 bytes big-endian, so no two field lists encode alike).
 * Only these two MACs are passed to the component.
 *
 * Component side (stores and compares MACs only, never computes one):
 *   codeVerifier    = SHA-256("convex-guard/code-verifier/v2" | codeId | codeMac)
 *   payloadVerifier = SHA-256("convex-guard/payload-verifier/v2" | codeId | payloadMac)
 * The random `codeId` salts each issued code's stored values, so two rows
 * never show the same value, and a copy of the table holds nothing a caller
 * could pass back as a MAC. The code-free payload tag tells a wrong payload
 * (`mismatch`) from a wrong code (`invalid`) without storing the payload or
 * an unkeyed digest of it.
 */

/** Version of the MAC encoding, stored with each code so it can change later. */
export const MAC_VERSION = 2;
const CODE_DOMAIN = "convex-guard/code/v2";
const PAYLOAD_DOMAIN = "convex-guard/payload/v2";
const CODE_VERIFIER_DOMAIN = "convex-guard/code-verifier/v2";
const PAYLOAD_VERIFIER_DOMAIN = "convex-guard/payload-verifier/v2";

/** Decimal digits. */
export const DIGITS = "0123456789";
/**
 * Upper-case letters and digits without look-alikes: no 0/O, 1/I/L. 31
 * symbols, so each one carries log2(31) ≈ 4.95 bits.
 */
export const ALPHANUMERIC = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

export function alphabetChars(alphabet: CodeAlphabet): string {
  return alphabet === "digits" ? DIGITS : ALPHANUMERIC;
}

/**
 * Uniform index in [0, n) for each output, from `crypto.getRandomValues`.
 * Rejection sampling: a byte is used only if it is below the largest multiple
 * of n that fits in 256, so `byte % n` has no modulo bias.
 */
export function randomIndices(
  n: number,
  count: number,
  random: (b: Uint8Array) => void = fillRandom,
): number[] {
  if (!Number.isInteger(n) || n < 2 || n > 256)
    throw guardError(ErrorCode.INTERNAL, "randomIndices: alphabet size must be 2..256");
  const limit = 256 - (256 % n);
  const out: number[] = [];
  const buf = new Uint8Array(max(16, count * 2));
  while (out.length < count) {
    random(buf);
    for (const b of buf) {
      if (b < limit) out.push(b % n);
      if (out.length === count) break;
    }
  }
  return out;
}

function fillRandom(b: Uint8Array): void {
  crypto.getRandomValues(b);
}

/** A fresh random code in `format`. `random` is injectable only for tests of the sampler. */
export function generateCode(format: CodeFormat, random?: (b: Uint8Array) => void): string {
  const chars = alphabetChars(format.alphabet);
  return randomIndices(chars.length, format.length, random)
    .map((i) => chars[i])
    .join("");
}

/** A public identifier for one issued code: 128 random bits, hex. */
export function newCodeId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return toHex(b);
}

/**
 * What a person types, as the code was generated: spaces and hyphens removed
 * ("123 456", "ABCD-EFGH") and letters upper-cased (both alphabets are
 * upper-case only, so this is right for digits too). Anything else is kept,
 * so it simply fails to match.
 */
export function normalizeCode(input: string): string {
  return input.replace(/[\s-]/g, "").toUpperCase();
}

/** Length-prefixed framing of string fields (4-byte big-endian byte length, then UTF-8 bytes). */
export function encodeFields(fields: readonly string[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    const bytes = utf8(f);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, bytes.length, false);
    parts.push(len, bytes);
  }
  return concatBytes(...parts);
}

/** Hex SHA-256 of the canonical JSON of `payload` (`undefined` is encoded as `null`). */
export async function payloadDigest(payload: Value | undefined): Promise<string> {
  return payloadDigestOfJson(canonicalJson(payload === undefined ? null : payload));
}

/** `payloadDigest` from the canonical JSON already computed (`canonicalPayload` returns it). */
export async function payloadDigestOfJson(canonical: string): Promise<string> {
  return sha256Hex(canonical);
}

// ---- host side: the MACs (need the secret) ----

export type MacInput = {
  secret: string;
  subject: string;
  action: string;
  payloadDigest: string;
};

/** The MAC of `code` (already normalized) that the host passes to the component. */
export async function codeMac(input: MacInput, code: string): Promise<string> {
  const { secret, subject, action, payloadDigest } = input;
  return hmacSha256Hex(secret, encodeFields([CODE_DOMAIN, subject, action, payloadDigest, code]));
}

/** The code-free tag binding a code to its payload. */
export async function payloadMac(input: MacInput): Promise<string> {
  const { secret, subject, action, payloadDigest } = input;
  return hmacSha256Hex(secret, encodeFields([PAYLOAD_DOMAIN, subject, action, payloadDigest]));
}

// ---- component side: stored verifiers (no secret) ----

/** What the component stores for a code MAC, salted by the code's id. */
export async function codeVerifier(codeId: string, mac: string): Promise<string> {
  return sha256Hex(encodeFields([CODE_VERIFIER_DOMAIN, codeId, mac]));
}

/** What the component stores for a payload MAC, salted by the code's id. */
export async function payloadVerifier(codeId: string, mac: string): Promise<string> {
  return sha256Hex(encodeFields([PAYLOAD_VERIFIER_DOMAIN, codeId, mac]));
}

/**
 * The limiter key of (subject, action): a hex SHA-256 of both fields, framed,
 * so it always fits the 256-byte key limit and cannot collide across pairs.
 */
export async function limitKey(subject: string, action: string): Promise<string> {
  return sha256Hex(encodeFields([subject, action]));
}
