import {
  canonicalJson,
  concatBytes,
  fromHex,
  sha256,
  sha256Hex,
  toHex,
  utf8,
} from "../lib/hash.js";
import type { Value } from "convex/values";
import { ErrorCode, guardError } from "../lib/errors.js";
import { floor } from "../lib/math.js";

/**
 * Merkle trees as in RFC 6962 (Certificate Transparency) and the chain of
 * seals over them. Pure: only WebCrypto, no `ctx`.
 *
 * - leaf hash  = SHA-256(0x00 ‖ data)
 * - node hash  = SHA-256(0x01 ‖ left ‖ right)
 * - root of n leaves: split at k = the largest power of two < n, root =
 *   node(root(first k), root(rest)); the root of zero leaves is SHA-256("").
 * The distinct prefixes mean a leaf can never pass for an interior node.
 * All hashes are lowercase hex strings, the form stored in documents.
 */

const LEAF_PREFIX = new Uint8Array([0]);
const NODE_PREFIX = new Uint8Array([1]);

/** The `prevHash` of the first seal. */
export const GENESIS_HASH = "0".repeat(64);

/** RFC 6962 leaf hash of raw bytes or a UTF-8 string. */
export async function leafHash(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return sha256Hex(concatBytes(LEAF_PREFIX, bytes));
}

/** RFC 6962 interior node hash of two hex child hashes. */
export async function nodeHash(left: string, right: string): Promise<string> {
  return sha256Hex(concatBytes(NODE_PREFIX, fromHex(left), fromHex(right)));
}

/** Largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Merkle tree hash (RFC 6962 MTH) of a list of leaf hashes. */
export async function merkleRoot(leaves: readonly string[]): Promise<string> {
  if (leaves.length === 0) return toHex(await sha256(new Uint8Array(0)));
  const [only] = leaves;
  if (leaves.length === 1 && only !== undefined) return only;
  const k = splitPoint(leaves.length);
  return nodeHash(await merkleRoot(leaves.slice(0, k)), await merkleRoot(leaves.slice(k)));
}

/** Audit path (RFC 6962 PATH) of leaf `index` in `leaves`, bottom-up. */
export async function inclusionPath(leaves: readonly string[], index: number): Promise<string[]> {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw guardError(
      ErrorCode.INTERNAL,
      `inclusionPath: index ${index} outside 0..${leaves.length - 1}`,
    );
  }
  if (leaves.length === 1) return [];
  const k = splitPoint(leaves.length);
  if (index < k) {
    return [...(await inclusionPath(leaves.slice(0, k), index)), await merkleRoot(leaves.slice(k))];
  }
  return [
    ...(await inclusionPath(leaves.slice(k), index - k)),
    await merkleRoot(leaves.slice(0, k)),
  ];
}

/**
 * Recomputes the root from a leaf hash and its audit path (RFC 9162 §2.1.3.2).
 * Returns null when the path has the wrong length for (index, size).
 */
export async function rootFromPath(
  leaf: string,
  index: number,
  size: number,
  path: readonly string[],
): Promise<string | null> {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size)
    return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = floor(fn / 2);
          sn = floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = floor(fn / 2);
    sn = floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** The fields of a seal that its hash covers. */
export type SealHeader = {
  n: number;
  fromSeq: number;
  toSeq: number;
  root: string;
  prevHash: string;
  sealedAt: number;
  /** Commit-timestamp watermark: every event committed at or before it is sealed. */
  upTo: bigint | string;
  /** `commitsDigest` of the sealed events' commit timestamps. */
  commits: string;
  /** Hashes of seals n-2, n-4, …, n-2^tz(n) (see skips.ts). */
  skips: readonly string[];
};

/** Hash of a seal: SHA-256 over a domain tag and the canonical encoding of its header. */
export async function sealHash(h: SealHeader): Promise<string> {
  const { n, fromSeq, toSeq, root, prevHash, sealedAt, upTo, commits, skips } = h;
  const header = {
    n,
    fromSeq,
    toSeq,
    root,
    prevHash,
    sealedAt,
    upTo: upTo.toString(),
    commits,
    skips: [...skips],
  };
  return sha256Hex(`convex-guard/seal/v3\n${canonicalJson(header)}`);
}

/** Digest of the commit timestamps of a seal's events, in seq order. */
export async function commitsDigest(ts: readonly bigint[]): Promise<string> {
  return sha256Hex(`convex-guard/commits/v1\n${ts.map((x) => x.toString()).join(",")}`);
}

/**
 * Salted commitment H(salt ‖ value) of a redacted field. Erasing value and salt
 * leaves the commitment (and so every leaf and root) unchanged.
 */
export async function commitment(saltHex: string, value: Value): Promise<string> {
  return sha256Hex(concatBytes(fromHex(saltHex), utf8(canonicalJson(value))));
}
