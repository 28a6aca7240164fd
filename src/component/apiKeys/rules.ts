import { ErrorCode, guardError } from "../lib/errors.js";
import { constantTimeEqual } from "../lib/hash.js";
import { DAY, MINUTE } from "../lib/time.js";
import { assertIntInRange, assertKey, assertString } from "../lib/validate.js";
import { normalizeConfig } from "../rateLimits/config.js";
import type { RateLimitConfigArg } from "../rateLimits/model.js";
import { isValidDigest, isValidKeyId, isValidPrefix, MAX_PREFIX_LENGTH } from "./format.js";
import { min } from "../lib/math.js";

/*
 * API-key rules as pure functions: input checks shared by the client and the
 * component, a key's state at a time, and the verification decision before
 * any rate limit. No ctx.
 */

export const MAX_NAME_BYTES = 128;
export const MAX_SCOPE_BYTES = 64;
/** Scopes one key holds, and scope names one `ApiKeys` declares. */
export const MAX_KEY_SCOPES = 32;
export const MAX_DECLARED_SCOPES = 128;
export const MAX_OVERLAP = 30 * DAY;
export const DEFAULT_OVERLAP = DAY;
/** A key may be created to expire at most this far ahead. */
export const MAX_LIFETIME = 10 * 365 * DAY;
/** Metadata of a revoked or expired key is deleted this long afterwards, unless `retention` says otherwise. */
export const DEFAULT_RETENTION = 90 * DAY;
export const MAX_RETENTION = 10 * 365 * DAY;
/** Rows (live or kept for the admin page) one owner may have. */
export const DEFAULT_MAX_KEYS_PER_OWNER = 100;
export const MAX_KEYS_PER_OWNER = 10_000;
/** `lastUsedAt` is written at most once per key per this interval, so a busy key is not a hot document. */
export const LAST_USED_RESOLUTION = MINUTE;

/** Reserved limiter names (hosts cannot use "guard:" names). */
export const CALL_LIMIT_NAME = "guard:apiKeys:calls";
export const DENIAL_LIMIT_NAME = "guard:apiKeys:denied";
/** Denials counted (and audited) per presented key id, whether or not a key has it. */
export const DEFAULT_DENIAL_LIMIT = { rate: 10, period: MINUTE } as const;
export type DenialLimit = { rate: number; period: number };

const SCOPE_RE = /^[A-Za-z0-9][A-Za-z0-9:._/*-]*$/;
// C0 and C1 controls, line and paragraph separators: a name is shown on admin
// pages and in emails, and must not break a line or a log record.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function assertPrefix(prefix: unknown): asserts prefix is string {
  if (!isValidPrefix(prefix)) {
    throw guardError(
      ErrorCode.INVALID_CONFIG,
      `prefix must be letters and digits with single underscores between them (like "sk_live"), starting with a letter, at most ${MAX_PREFIX_LENGTH} characters`,
    );
  }
}

export function assertKeyId(keyId: unknown): asserts keyId is string {
  if (!isValidKeyId(keyId))
    throw guardError(ErrorCode.INVALID_ARGUMENT, "keyId must be a key id (16 letters and digits)");
}

/** A digest computed by the client. Its message never includes the value. */
export function assertDigest(digest: unknown): asserts digest is string {
  if (!isValidDigest(digest))
    throw guardError(ErrorCode.INVALID_ARGUMENT, "digest must be a hex SHA-256 digest");
}

/** A display name: 1..128 bytes, not only whitespace, no control characters (newlines included). */
export function assertKeyName(name: unknown): asserts name is string {
  assertString(name, "name", MAX_NAME_BYTES);
  if (name.trim().length === 0)
    throw guardError(ErrorCode.INVALID_ARGUMENT, "name must not be only whitespace");
  if (CONTROL_RE.test(name))
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      "name must not contain control characters or line breaks",
    );
}

export function assertScopeName(scope: unknown, what = "scope"): asserts scope is string {
  assertString(scope, what, MAX_SCOPE_BYTES);
  if (!SCOPE_RE.test(scope)) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `${what} must be letters, digits and : . _ / * - (starting with a letter or digit), got ${JSON.stringify(scope)}`,
    );
  }
}

/** A list of distinct, well-formed scope names of at most `max` entries. */
export function assertScopeList(
  scopes: unknown,
  what: string,
  max: number,
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): asserts scopes is string[] {
  if (!Array.isArray(scopes)) throw guardError(code, `${what} must be an array of scope names`);
  if (scopes.length > max) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `${what} has ${scopes.length} entries; the limit is ${max}`,
      { count: scopes.length, limit: max },
    );
  }
  const seen = new Set<string>();
  for (const s of scopes) {
    assertScopeName(s, `${what} entry`);
    if (seen.has(s)) throw guardError(code, `${what} lists ${JSON.stringify(s)} twice`);
    seen.add(s);
  }
}

/** Every scope of a key must be one the `ApiKeys` instance declares. */
export function assertKnownScopes(scopes: readonly string[], declared: readonly string[]): void {
  const known = new Set(declared);
  for (const s of scopes) {
    if (!known.has(s))
      throw guardError(
        ErrorCode.INVALID_ARGUMENT,
        `unknown scope ${JSON.stringify(s)}; declared scopes: ${declared.join(", ") || "(none)"}`,
        { scope: s },
      );
  }
}

export function assertOwner(owner: unknown): asserts owner is { type: string; id: string } {
  if (typeof owner !== "object" || owner === null)
    throw guardError(ErrorCode.INVALID_ARGUMENT, "owner must be { type, id }");
  const o = owner as { type?: unknown; id?: unknown };
  assertKey(o.type, "owner.type");
  assertKey(o.id, "owner.id");
}

/** An expiry strictly in the future and at most 10 years ahead. */
export function assertExpiresAt(expiresAt: unknown, now: number): asserts expiresAt is number {
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `expiresAt must be a finite time in ms, got ${String(expiresAt)}`,
    );
  }
  if (expiresAt <= now)
    throw guardError(ErrorCode.INVALID_ARGUMENT, "expiresAt is not in the future", {
      expiresAt,
      now,
    });
  if (expiresAt > now + MAX_LIFETIME)
    throw guardError(ErrorCode.INVALID_ARGUMENT, "expiresAt is more than 10 years ahead", {
      expiresAt,
      now,
    });
}

export function assertOverlap(overlap: unknown): asserts overlap is number {
  assertIntInRange(overlap, "overlap", 0, MAX_OVERLAP);
}

export function assertRetention(
  ms: unknown,
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): asserts ms is number {
  assertIntInRange(ms, "retention", 1, MAX_RETENTION, code);
}

export function assertMaxKeysPerOwner(
  n: unknown,
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): asserts n is number {
  assertIntInRange(n, "maxKeysPerOwner", 1, MAX_KEYS_PER_OWNER, code);
}

/** The per-key call limit: any rate-limit config our limiter accepts. Throws INVALID_CONFIG. */
export function assertCallLimit(limit: RateLimitConfigArg): void {
  normalizeConfig(limit, "limit");
}

export function assertDenialLimit(
  limit: unknown,
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): asserts limit is DenialLimit {
  if (typeof limit !== "object" || limit === null)
    throw guardError(code, "denialLimit must be { rate, period }");
  const l = limit as { rate?: unknown; period?: unknown };
  assertIntInRange(l.rate, "denialLimit.rate", 1, 1000, code);
  assertIntInRange(l.period, "denialLimit.period", 1000, 30 * DAY, code);
}

// ---- a key's state ----

/** The fields of a key row the rules look at. */
export type KeyRow = {
  digest: string;
  previousDigest?: string;
  previousValidUntil?: number;
  scopes: string[];
  expiresAt?: number;
  revokedAt?: number;
};

export type KeyState = "active" | "expired" | "revoked";

export function keyState(row: Pick<KeyRow, "expiresAt" | "revokedAt">, now: number): KeyState {
  if (row.revokedAt !== undefined) return "revoked";
  if (row.expiresAt !== undefined && now >= row.expiresAt) return "expired";
  return "active";
}

/**
 * Does `digest` match the key's current secret, or its previous one while the
 * rotation overlap lasts? Both comparisons always run, in constant time.
 */
export function digestMatches(row: KeyRow, digest: string, now: number): boolean {
  const current = constantTimeEqual(digest, row.digest);
  const previous = constantTimeEqual(digest, row.previousDigest ?? row.digest);
  const overlapping =
    row.previousDigest !== undefined &&
    row.previousValidUntil !== undefined &&
    now < row.previousValidUntil;
  return current || (previous && overlapping);
}

/** Why a key is refused before rate limits, or null when it passes. "wrong_secret" is answered as "unknown". */
export type Refusal = "unknown" | "wrong_secret" | "revoked" | "expired" | "scope";

export function refusal(
  row: KeyRow | null,
  digest: string,
  scope: string | undefined,
  now: number,
): Refusal | null {
  if (row === null) return "unknown";
  if (!digestMatches(row, digest, now)) return "wrong_secret";
  const state = keyState(row, now);
  if (state !== "active") return state;
  if (scope !== undefined && !row.scopes.includes(scope)) return "scope";
  return null;
}

/** Whether this verification should record `lastUsedAt` (at most once per LAST_USED_RESOLUTION). */
export function shouldTouch(lastUsedAt: number | undefined, now: number): boolean {
  return lastUsedAt === undefined || now - lastUsedAt >= LAST_USED_RESOLUTION;
}

/**
 * When a row's metadata may be deleted: `retention` after it stopped working
 * (revoked or expired). A live key without expiry has none.
 */
export function purgeAt(
  row: Pick<KeyRow, "expiresAt" | "revokedAt">,
  retention: number,
): number | undefined {
  const ends = [row.expiresAt, row.revokedAt].filter((t): t is number => t !== undefined);
  return ends.length === 0 ? undefined : min(...ends) + retention;
}
