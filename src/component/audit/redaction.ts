import { ErrorCode, guardError } from "../lib/errors.js";
import { byteLength } from "../lib/validate.js";
import { MAX_REDACT_PATHS } from "./model.js";

/**
 * Redaction paths: which fields of an event are stored as salted commitments,
 * and the dotted-path helpers that read and remove them.
 */

/**
 * Paths that may be redacted: free-text and personal fields. Index fields
 * (actor/target ids, action, tenant, outcome) cannot be, since the indexes
 * would keep them in clear anyway.
 */
const REDACTABLE =
  /^(reason|actor\.name|context\.(ip|userAgent|requestId|sessionId)|metadata(\.[^.]+)+)$/;

export function assertRedactPaths(
  paths: readonly unknown[],
  code: ErrorCode = ErrorCode.INVALID_CONFIG,
): void {
  if (paths.length > MAX_REDACT_PATHS) {
    throw guardError(code, `at most ${MAX_REDACT_PATHS} redact paths, got ${paths.length}`);
  }
  for (const p of paths) {
    if (typeof p !== "string" || byteLength(p) > 256 || !REDACTABLE.test(p)) {
      throw guardError(
        code,
        `redact path ${JSON.stringify(p)} is not one of reason, actor.name, context.<ip|userAgent|requestId|sessionId>, metadata.<path>`,
      );
    }
  }
}

type Json = Record<string, unknown>;

/**
 * Reads a dotted path through own data properties only; undefined when any
 * step is missing, inherited (`constructor`, `__proto__`) or not a plain object.
 */
export function getPath(obj: unknown, path: string): unknown {
  let at: unknown = obj;
  for (const k of path.split(".")) {
    if (at === null || typeof at !== "object" || Array.isArray(at)) return undefined;
    const d = Object.getOwnPropertyDescriptor(at, k);
    if (d === undefined || !("value" in d)) return undefined;
    at = d.value;
  }
  return at;
}

/** Copy of `obj` with `path` set (value undefined removes it). Creates plain objects along the way. */
export function setPath<T>(obj: T, path: string, value: unknown): T {
  const [head = "", ...rest] = path.split(".");
  const base = (
    obj !== null && typeof obj === "object" && !Array.isArray(obj) ? { ...(obj as Json) } : {}
  ) as Json;
  const own = Object.prototype.hasOwnProperty.call(base, head);
  if (rest.length === 0) {
    if (value === undefined) delete base[head];
    else
      Object.defineProperty(base, head, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  } else if (value !== undefined || own) {
    const next = setPath(own ? base[head] : undefined, rest.join("."), value);
    Object.defineProperty(base, head, {
      value: next,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return base as T;
}
