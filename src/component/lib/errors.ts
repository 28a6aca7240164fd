import { ConvexError, type Value } from "convex/values";

/**
 * Stable codes carried in `ConvexError.data.code`. Hosts branch on these, so
 * never rename one; add new ones instead.
 */
export const ErrorCode = {
  /**
   * The caller's argument has the wrong type, range or shape: NaN or negative
   * counts, empty keys, bad filters, malformed ids, cursors or anchors, an
   * event a typed `AuditLog`'s `actions` refuse, explicit `null` for an
   * option, `rotate` of a revoked or expired API key.
   */
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  /**
   * A limit config or a client's constructor option is invalid (rate <= 0,
   * a secret under 32 bytes, ttl over 24 h, an option given as `null`, an
   * `audit` without `log`...).
   */
  INVALID_CONFIG: "INVALID_CONFIG",
  /** A rate limit name that is neither configured nor given an inline config. */
  UNKNOWN_LIMIT: "UNKNOWN_LIMIT",
  /**
   * A value is over a size or count cap: a key, subject, action or id over
   * 256 bytes, a string over its byte cap, metadata or a payload over 8 KB, a
   * value nested or wide beyond a deployment's limits, more than 20 targets,
   * too many scopes or `limitAll` requests, an owner at `maxKeysPerOwner`, a
   * count no shard could ever admit.
   */
  TOO_LARGE: "TOO_LARGE",
  /** A rate limit denied the call and the caller asked for `throws: true`. */
  RATE_LIMITED: "RATE_LIMITED",
  /** A referenced document does not exist: an audit event for `proof`, an API key id for `rotate`/`revoke`. */
  NOT_FOUND: "NOT_FOUND",
  /** An audit `eventId` was reused with different content. */
  CONFLICT: "CONFLICT",
  /** `create` of an API key whose key id is already stored. */
  ALREADY_EXISTS: "ALREADY_EXISTS",
  /**
   * A stored document fails its own validator or invariants (edited in the
   * dashboard, or written by a bug); the caller's input was fine. Run the
   * audit log's `verify` to locate it. Thrown by: `seal` when the newest
   * seal is malformed; `proof` when the event's seq is impossible, no seal
   * covers it, its seal covers an impossible range or lacks a leaf, or a seal
   * on the path is missing; a rate limit whose stored sliding-window log
   * does not decode.
   */
  CORRUPT_STATE: "CORRUPT_STATE",
  /**
   * convex-guard broke one of its own invariants: a bug, never the caller's
   * input (please report it). Thrown when a rate-limit decision still asks
   * for a shard after reading all it may, the sliding-window log cannot
   * merge or encode its entries, a Merkle path is asked for a leaf outside
   * its batch, or a hashing helper gets a value its callers exclude (a
   * non-hex string, a non-Convex value, an alphabet outside 2..256).
   */
  INTERNAL: "INTERNAL",
  /** An access-controlled function was called without a signed-in identity (or verified API key). */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  /** The caller lacks the permission, or a row rule refused a read through a query or a write. */
  FORBIDDEN: "FORBIDDEN",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type GuardErrorData = {
  code: ErrorCode;
  message: string;
  [extra: string]: Value;
};

/** Builds the `ConvexError` every convex-guard entry point throws for bad input. */
export function guardError(
  code: ErrorCode,
  message: string,
  extra: Record<string, string | number | boolean | null> = {},
): ConvexError<GuardErrorData> {
  return new ConvexError({ ...extra, code, message });
}

/** True when `e` is a convex-guard `ConvexError`, optionally with the given code. */
export function isGuardError(e: unknown, code?: ErrorCode): e is ConvexError<GuardErrorData> {
  if (!(e instanceof ConvexError)) return false;
  const data = e.data as unknown;
  if (typeof data !== "object" || data === null || !("code" in data)) return false;
  return code === undefined || (data as GuardErrorData).code === code;
}
