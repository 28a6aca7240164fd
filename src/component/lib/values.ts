import { ErrorCode, guardError } from "./errors.js";

/**
 * The value rules a Convex deployment enforces and convex-test does not:
 * values nest at most 16 levels and objects hold at most 1,024 fields. We
 * check free-form values (audit metadata, code payloads) against them where
 * they enter, counting the containers we wrap them in, so a value that would
 * fail on a deployment fails the same way in tests, with a coded error.
 */
export const MAX_VALUE_DEPTH = 16;
export const MAX_OBJECT_FIELDS = 1024;

/**
 * Throws a coded ConvexError unless `value` is a plain Convex value that still
 * fits the deployment's rules when stored `wrapDepth` containers deep:
 * TOO_LARGE for depth or field count, INVALID_ARGUMENT for a non-finite
 * number or a value Convex cannot store (a function, a symbol, a class
 * instance other than ArrayBuffer).
 */
export function assertStorableValue(value: unknown, what: string, wrapDepth: number): void {
  walk(value, what, wrapDepth);
}

function walk(value: unknown, at: string, depth: number): void {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw guardError(ErrorCode.INVALID_ARGUMENT, `${at} must be a finite number, got ${value}`);
    }
    return;
  }
  if (value === null || ["string", "boolean", "bigint"].includes(typeof value)) return;
  if (value instanceof ArrayBuffer) return;
  if (typeof value !== "object") {
    throw guardError(ErrorCode.INVALID_ARGUMENT, `${at} is a ${typeof value}, not a Convex value`);
  }
  const level = depth + 1;
  if (level > MAX_VALUE_DEPTH) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `${at} nests deeper than a deployment allows (${MAX_VALUE_DEPTH} levels, counting ${depth} around it)`,
      { limit: MAX_VALUE_DEPTH },
    );
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, `${at}[${i}]`, level));
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw guardError(ErrorCode.INVALID_ARGUMENT, `${at} must be a plain object or array`);
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_OBJECT_FIELDS) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `${at} has ${keys.length} fields; a deployment allows ${MAX_OBJECT_FIELDS} per object`,
      { fields: keys.length, limit: MAX_OBJECT_FIELDS },
    );
  }
  for (const key of keys) walk((value as Record<string, unknown>)[key], `${at}.${key}`, level);
}
