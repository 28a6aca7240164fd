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

/** Reads a dotted path; undefined when any step is missing or not a plain object. */
export function getPath(obj: unknown, path: string): unknown {
  let at: unknown = obj;
  for (const k of path.split(".")) {
    if (at === null || typeof at !== "object" || Array.isArray(at)) return undefined;
    at = (at as Json)[k];
  }
  return at;
}

/** Copy of `obj` with `path` set (value undefined removes it). Creates plain objects along the way. */
export function setPath<T>(obj: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split(".");
  const base = (
    obj !== null && typeof obj === "object" && !Array.isArray(obj) ? { ...(obj as Json) } : {}
  ) as Json;
  if (rest.length === 0) {
    if (value === undefined) delete base[head!];
    else base[head!] = value;
  } else {
    base[head!] = setPath(base[head!], rest.join("."), value);
  }
  return base as T;
}
