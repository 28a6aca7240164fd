/**
 * Argument values generated from a function's validator (its `exportArgs()`
 * JSON), and the reading of values the probe gets back: the ids a result
 * names and the marker strings it carries. Pure: no ctx, no convex-test.
 */
import type { Value, ValidatorJSON } from "convex/values";

/** Where a value sits in an argument object: field names and `[]` for array elements. */
export type Slot = { path: string; table?: string };

/** What fills the slots of one generated argument object. */
export type Filler = {
  /** A string for the string slot at `path` (a canary or an identity value). */
  string(path: string): string;
  /** An id of `table` for the id slot at `path`, or undefined when there is none to give. */
  id(table: string, path: string): string | undefined;
};

/** Thrown while generating when an id slot cannot be filled: the call cannot be built yet. */
export class MissingId extends Error {
  constructor(readonly table: string) {
    super(`no id of table ${table} to pass`);
  }
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);

/** Whether a validator holds an id somewhere (optional fields holding one are filled, not omitted). */
function holdsId(v: ValidatorJSON): boolean {
  switch (v.type) {
    case "id":
      return true;
    case "array":
      return holdsId(v.value);
    case "object":
      return Object.values(v.value).some((f) => holdsId(f.fieldType));
    case "union":
      return v.value.some(holdsId);
    default:
      return false;
  }
}

/**
 * The smallest value `v` accepts, with every string and id taken from `fill`.
 * Optional fields are left out unless they hold an id; a union takes `null`
 * when it allows it (a pagination cursor), else its first member that can be
 * built; numbers are 10 (a page size, a count of minutes), booleans true.
 * Throws MissingId when a required id slot has nothing to take.
 */
export function generate(v: ValidatorJSON, fill: Filler, path = ""): Value {
  switch (v.type) {
    case "null":
      return null;
    case "number":
      return 10;
    case "bigint":
      return 10n;
    case "commitTs":
      return 0n;
    case "boolean":
      return true;
    case "string":
    case "any":
      return fill.string(path);
    case "bytes":
      return new ArrayBuffer(8);
    case "literal":
      return v.value as Value;
    case "id": {
      const id = fill.id(v.tableName, path);
      if (id === undefined) throw new MissingId(v.tableName);
      return id;
    }
    case "array":
      return [generate(v.value, fill, join(path, "[]"))];
    case "record":
      return {};
    case "object": {
      const out: Record<string, Value> = {};
      for (const [key, field] of Object.entries(v.value)) {
        if (!field.optional) {
          out[key] = generate(field.fieldType, fill, join(path, key));
          continue;
        }
        if (!holdsId(field.fieldType)) continue;
        try {
          out[key] = generate(field.fieldType, fill, join(path, key));
        } catch (e) {
          if (!(e instanceof MissingId)) throw e;
        }
      }
      return out;
    }
    case "union": {
      if (v.value.some((m) => m.type === "null")) return null;
      let missing: MissingId | undefined;
      for (const member of v.value) {
        try {
          return generate(member, fill, path);
        } catch (e) {
          if (!(e instanceof MissingId)) throw e;
          missing ??= e;
        }
      }
      throw missing ?? new MissingId("(empty union)");
    }
  }
}

/** The slots `generate` fills, in the order it fills them (the union member it would pick). */
export function slots(v: ValidatorJSON, path = ""): Slot[] {
  switch (v.type) {
    case "string":
    case "any":
      return [{ path }];
    case "id":
      return [{ path, table: v.tableName }];
    case "array":
      return slots(v.value, join(path, "[]"));
    case "object":
      return Object.entries(v.value).flatMap(([key, field]) =>
        !field.optional || holdsId(field.fieldType) ? slots(field.fieldType, join(path, key)) : [],
      );
    case "union": {
      if (v.value.some((m) => m.type === "null")) return [];
      const first = v.value[0];
      return first === undefined ? [] : slots(first, path);
    }
    default:
      return [];
  }
}

/** The ids a value holds where its validator says `v.id(table)`, with their tables. */
export function idsIn(
  v: ValidatorJSON | null,
  value: unknown,
): Array<{ table: string; id: string }> {
  if (v === null) return [];
  switch (v.type) {
    case "id":
      return typeof value === "string" ? [{ table: v.tableName, id: value }] : [];
    case "array":
      return Array.isArray(value) ? value.flatMap((x) => idsIn(v.value, x)) : [];
    case "record":
      return isObject(value)
        ? Object.values(value).flatMap((x) => idsIn(v.values.fieldType, x))
        : [];
    case "object":
      return isObject(value)
        ? Object.entries(v.value).flatMap(([k, f]) => idsIn(f.fieldType, value[k]))
        : [];
    case "union":
      return v.value.flatMap((m) => idsIn(m, value));
    default:
      return [];
  }
}

/** The tables whose ids a validator can return (a mutation returning one creates rows there). */
export function idTables(v: ValidatorJSON | null): string[] {
  if (v === null) return [];
  switch (v.type) {
    case "id":
      return [v.tableName];
    case "array":
      return idTables(v.value);
    case "record":
      return idTables(v.values.fieldType);
    case "object":
      return [...new Set(Object.values(v.value).flatMap((f) => idTables(f.fieldType)))];
    case "union":
      return [...new Set(v.value.flatMap(idTables))];
    default:
      return [];
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every string in a value (object keys too), for marker search. */
export function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const x of value) stringsIn(x, out);
  else if (isObject(value))
    for (const [k, x] of Object.entries(value)) {
      out.push(k);
      stringsIn(x, out);
    }
  return out;
}

/** The markers that occur in `value` (as a substring of any string in it). */
export function markersIn(value: unknown, markers: readonly string[]): string[] {
  const strings = stringsIn(value);
  return markers.filter((m) => strings.some((s) => s.includes(m)));
}
