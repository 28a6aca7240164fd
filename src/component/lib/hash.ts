import { convexToJson, type Value } from "convex/values";
import { ErrorCode, guardError } from "./errors.js";
import { max } from "./math.js";

/**
 * Hashing primitives shared by the audit log (leaf hashes, Merkle roots) and
 * confirmation codes (payload digests, HMAC). Pure: no `ctx`, only WebCrypto,
 * which Convex queries and mutations provide.
 */

const encoder = new TextEncoder();

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no
 * whitespace, numbers in their shortest round-trip form. Convex-only values
 * (int64, bytes) are first turned into their JSON form by `convexToJson`, so
 * equal Convex values always encode to the same string. `undefined` object
 * fields are dropped, as Convex drops them.
 */
export function canonicalJson(value: Value | undefined): string {
  return encodeJson(convexToJson(value as Value));
}

function encodeJson(v: unknown): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      if (!Number.isFinite(v))
        throw guardError(ErrorCode.INTERNAL, "canonicalJson: non-finite number");
      return Object.is(v, -0) ? "0" : JSON.stringify(v);
    case "string":
      return JSON.stringify(v);
    case "object": {
      if (Array.isArray(v)) return `[${v.map(encodeJson).join(",")}]`;
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${encodeJson(obj[k])}`).join(",")}}`;
    }
    default:
      throw guardError(ErrorCode.INTERNAL, `canonicalJson: unsupported value of type ${typeof v}`);
  }
}

export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  return toHex(await sha256(data));
}

export async function hmacSha256(
  key: Uint8Array | string,
  data: Uint8Array | string,
): Promise<Uint8Array> {
  const keyBytes = typeof key === "string" ? utf8(key) : key;
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    keyBytes as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const bytes = typeof data === "string" ? utf8(data) : data;
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, bytes as BufferSource));
}

export async function hmacSha256Hex(
  key: Uint8Array | string,
  data: Uint8Array | string,
): Promise<string> {
  return toHex(await hmacSha256(key, data));
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex))
    throw guardError(ErrorCode.INTERNAL, "fromHex: not a hex string");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Compares two strings in time that depends only on their lengths, never on
 * where they first differ. Use for secrets and MACs (Convex has no
 * `timingSafeEqual`).
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === "string" ? utf8(a) : a;
  const y = typeof b === "string" ? utf8(b) : b;
  let diff = x.length ^ y.length;
  const n = max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
