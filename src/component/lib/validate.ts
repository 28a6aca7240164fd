import { ErrorCode, guardError } from "./errors.js";

/**
 * Input checks shared by the client classes and the component functions.
 * Each throws a `ConvexError` with a stable `code` before any state changes.
 */

const encoder = new TextEncoder();

/** UTF-8 length of a string, the unit of every size cap. */
export function byteLength(s: string): number {
  return encoder.encode(s).length;
}

export const MAX_KEY_BYTES = 256;

/** A lone (unpaired) surrogate: in `u` mode a valid pair is one code point and does not match. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Whether `s` is well-formed UTF-16 (no lone surrogate). Identifiers must be:
 * UTF-8 (hashes, byte caps, a deployment's storage) turns every lone
 * surrogate into the same U+FFFD, so two ill-formed ids could share one
 * budget or one hash.
 */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** A finite number (not NaN, not ±Infinity). */
export function assertFinite(value: unknown, what: string): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `${what} must be a finite number, got ${String(value)}`,
    );
  }
}

/** A finite number > 0. */
export function assertPositive(
  value: unknown,
  what: string,
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw guardError(code, `${what} must be a finite number greater than 0, got ${String(value)}`);
  }
}

/** An integer in [min, max]. */
export function assertIntInRange(
  value: unknown,
  what: string,
  min: number,
  max: number,
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw guardError(
      code,
      `${what} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
}

/** A non-empty string of at most `maxBytes` UTF-8 bytes. */
export function assertString(
  value: unknown,
  what: string,
  maxBytes: number,
): asserts value is string {
  if (typeof value !== "string" || value.length === 0) {
    throw guardError(ErrorCode.INVALID_ARGUMENT, `${what} must be a non-empty string`);
  }
  if (!isWellFormed(value)) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `${what} must be well-formed UTF-16 (it holds a lone surrogate)`,
    );
  }
  // A UTF-16 unit encodes to at most 3 UTF-8 bytes: short strings need no encoding.
  if (value.length * 3 <= maxBytes) return;
  const bytes = byteLength(value);
  if (bytes > maxBytes) {
    throw guardError(ErrorCode.TOO_LARGE, `${what} is ${bytes} bytes; the limit is ${maxBytes}`, {
      bytes,
      limit: maxBytes,
    });
  }
}

/** A key: a non-empty string of at most 256 UTF-8 bytes. */
export function assertKey(value: unknown, what = "key"): asserts value is string {
  assertString(value, what, MAX_KEY_BYTES);
}

/**
 * Refuses an explicit `null` in any field of an options or arguments object:
 * an omitted option means its default, and null is not a way to ask for it.
 * The error names the field.
 */
export function assertNoNullFields(
  fields: object,
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): void {
  for (const [name, value] of Object.entries(fields)) {
    if (value === null)
      throw guardError(code, `${name} must be omitted or given a value, not null`, { field: name });
  }
}
