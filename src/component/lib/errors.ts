import { ConvexError, type Value } from "convex/values";

/**
 * Stable codes carried in `ConvexError.data.code`. Hosts branch on these, so
 * never rename one; add new ones instead.
 */
export const ErrorCode = {
  /** An argument has the wrong type, range or shape (NaN, negative count, empty key...). */
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  /** A configuration (limit config, client options) is invalid. */
  INVALID_CONFIG: "INVALID_CONFIG",
  /** A rate limit name that is neither configured nor given an inline config. */
  UNKNOWN_LIMIT: "UNKNOWN_LIMIT",
  /** A value is over a size cap (metadata bytes, string length, number of targets, key bytes). */
  TOO_LARGE: "TOO_LARGE",
  /** A rate limit denied the call and the caller asked for `throws: true`. */
  RATE_LIMITED: "RATE_LIMITED",
  /** A referenced document (audit event id, ...) does not exist. */
  NOT_FOUND: "NOT_FOUND",
  /** An idempotency key was reused with different content. */
  CONFLICT: "CONFLICT",
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
