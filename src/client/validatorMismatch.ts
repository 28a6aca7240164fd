import type { Validator } from "convex/values";

/**
 * Host-side check of a value against a Convex validator, for `AuditLog`'s
 * typed `actions`: the validators live in the host's code and cannot cross
 * the component boundary, so this one check runs in the client.
 */

type Json = Record<string, unknown>;

/** Returns a description of the first mismatch, or null when `value` matches `validator`. */
export function validatorMismatch(
  validator: Validator<any, any, any>,
  value: unknown,
  at = "metadata",
): string | null {
  const j = validator as any;
  if (value === undefined) return j.isOptional === "optional" ? null : `${at} is required`;
  switch (j.kind as string) {
    case "any":
      return null;
    case "string":
      return typeof value === "string" ? null : `${at} must be a string`;
    case "float64":
      return typeof value === "number" ? null : `${at} must be a number`;
    case "int64":
      return typeof value === "bigint" ? null : `${at} must be a bigint`;
    case "boolean":
      return typeof value === "boolean" ? null : `${at} must be a boolean`;
    case "null":
      return value === null ? null : `${at} must be null`;
    case "bytes":
      return value instanceof ArrayBuffer ? null : `${at} must be bytes`;
    case "id":
      return typeof value === "string" ? null : `${at} must be an id`;
    case "literal":
      return value === j.value ? null : `${at} must be ${JSON.stringify(j.value)}`;
    case "array":
      if (!Array.isArray(value)) return `${at} must be an array`;
      for (let i = 0; i < value.length; i++) {
        const m = validatorMismatch(j.element, value[i], `${at}[${i}]`);
        if (m) return m;
      }
      return null;
    case "object": {
      if (value === null || typeof value !== "object" || Array.isArray(value))
        return `${at} must be an object`;
      const obj = value as Json;
      for (const k of Object.keys(obj)) {
        if (obj[k] !== undefined && !(k in j.fields)) return `${at}.${k} is not allowed`;
      }
      for (const [k, fv] of Object.entries(j.fields)) {
        const m = validatorMismatch(fv as Validator<any, any, any>, obj[k], `${at}.${k}`);
        if (m) return m;
      }
      return null;
    }
    case "record": {
      if (value === null || typeof value !== "object" || Array.isArray(value))
        return `${at} must be an object`;
      for (const [k, x] of Object.entries(value as Json)) {
        const m =
          validatorMismatch(j.key, k, `${at} key`) ?? validatorMismatch(j.value, x, `${at}.${k}`);
        if (m) return m;
      }
      return null;
    }
    case "union":
      return (j.members as Validator<any, any, any>[]).some(
        (m) => validatorMismatch(m, value, at) === null,
      )
        ? null
        : `${at} matches none of the allowed shapes`;
    default:
      return null;
  }
}
