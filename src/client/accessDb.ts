/**
 * The `ctx.db` of access-wrapped functions: every row read or written passes
 * the table's rule for the actor. Unlike a filtering wrapper, a row that fails
 * its read rule inside `query(...)` is an error (lists select by index, so a
 * failing row means a wrong index), `get` answers a foreign id as a missing
 * one, and a write is checked on the stored row and on the row it proposes.
 */
import type { GenericDatabaseReader, GenericDatabaseWriter, GenericDocument } from "convex/server";
import type { GenericId } from "convex/values";
import { ErrorCode, guardError } from "../component/lib/errors.js";
import type { ActorWith, TableRule } from "./accessTypes.js";

type AnyRules = Record<string, TableRule<any, any, unknown> | undefined>;
/** The actor rules see: with the app's profile when `Access` has one. */
type Actor = ActorWith<unknown>;
type Doc = GenericDocument;

/** The row rules of one `Access`, applied for one actor. */
export class RowPolicy {
  constructor(
    private readonly rules: AnyRules,
    private readonly publicTables: ReadonlySet<string>,
  ) {}

  /** Tables a wrapped `ctx.db` can resolve an id to: those with a rule, and the public ones. */
  tables(): string[] {
    return [...Object.keys(this.rules), ...this.publicTables];
  }

  isPublic(table: string): boolean {
    return this.publicTables.has(table);
  }

  /** Whether the actor may read some rows of `table` at all. */
  readsTable(table: string): boolean {
    return this.isPublic(table) || typeof this.rule(table)?.read === "function";
  }

  private rule(table: string): TableRule<any, any, unknown> | undefined {
    return Object.prototype.hasOwnProperty.call(this.rules, table) ? this.rules[table] : undefined;
  }

  /** Runs one rule; a rule that throws is the host's bug: INVALID_CONFIG naming it. */
  private async run(
    table: string,
    kind: "read" | "write" | "insert",
    call: (rule: TableRule<any, any, unknown>) => boolean | Promise<boolean> | undefined,
  ): Promise<boolean> {
    const rule = this.rule(table);
    if (rule === undefined || typeof rule[kind] !== "function") return false;
    try {
      return (await call(rule)) === true;
    } catch (e) {
      throw guardError(
        ErrorCode.INVALID_CONFIG,
        `the ${kind} rule of table ${table} threw: ${e instanceof Error ? e.message : String(e)}`,
        { table },
      );
    }
  }

  async canRead(actor: Actor, table: string, doc: Doc): Promise<boolean> {
    if (this.isPublic(table)) return true;
    return this.run(table, "read", (r) => r.read?.(actor, doc));
  }

  async canInsert(actor: Actor, table: string, doc: Doc): Promise<boolean> {
    if (this.isPublic(table)) return true;
    return this.run(table, "insert", (r) => r.insert?.(actor, doc));
  }

  /** A write must be allowed on the stored row, and the row it leaves must be one the actor may read. */
  async canWrite(actor: Actor, table: string, old: Doc, next: Doc | null): Promise<boolean> {
    if (this.isPublic(table)) return true;
    if (!(await this.canRead(actor, table, old))) return false;
    if (!(await this.run(table, "write", (r) => r.write?.(actor, old, next)))) return false;
    return next === null || this.canRead(actor, table, next);
  }

  /** The table `id` belongs to, among the tables this policy knows; null for any other. */
  tableOf(db: GenericDatabaseReader<any>, id: string): string | null {
    for (const table of this.tables()) if (db.normalizeId(table, id) !== null) return table;
    return null;
  }

  /** The row, if it exists and the actor may read it; null for a missing and a foreign row alike. */
  async readable(
    db: GenericDatabaseReader<any>,
    actor: Actor,
    table: string,
    id: string,
  ): Promise<Doc | null> {
    const normalized = db.normalizeId(table, id);
    if (normalized === null) return null;
    const doc = await db.get(table, normalized);
    if (doc === null) return null;
    return (await this.canRead(actor, table, doc)) ? doc : null;
  }
}

/** A row rule refused a write, or a read through a query: the wrapper turns it into a denial. */
export type RowDenial = { table: string; error: Error };
const rowDenials = new WeakMap<object, string>();

function rowDenied(table: string, message: string): Error {
  const error = guardError(ErrorCode.FORBIDDEN, message, { table });
  rowDenials.set(error, table);
  return error;
}

/** The table of a row denial raised by a wrapped `ctx.db`, or null for any other error. */
export function rowDenialTable(e: unknown): string | null {
  return typeof e === "object" && e !== null ? (rowDenials.get(e) ?? null) : null;
}

/** A deep copy of a Convex value (objects, arrays, ArrayBuffers, primitives). */
function copyOf<V>(value: V): V {
  if (value instanceof ArrayBuffer) return value.slice(0) as V;
  if (Array.isArray(value)) return value.map(copyOf) as V;
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyOf(v)])) as V;
  return value;
}

/** The system tables `ctx.db.system` serves; every other table goes through the row rules. */
const SYSTEM_TABLES = ["_storage", "_scheduled_functions"] as const;
const isSystemTable = (table: unknown): boolean =>
  typeof table === "string" && table.startsWith("_");

/**
 * `db.system` limited to system tables: Convex (and convex-test) would also
 * serve a user row through it, skipping the read rules. A user row's id reads
 * as missing; a query of a user table is FORBIDDEN.
 */
function systemOnly(
  system: GenericDatabaseReader<any>["system"],
): GenericDatabaseReader<any>["system"] {
  const tableOf = (id: string): string | null =>
    SYSTEM_TABLES.find((table) => system.normalizeId(table, id) !== null) ?? null;
  return {
    normalizeId: (table: any, id: string) =>
      isSystemTable(table) ? system.normalizeId(table, id) : null,
    get: (async (a: any, b?: any) => {
      const table = typeof b === "string" ? a : tableOf(a);
      if (!isSystemTable(table)) return null;
      const id = typeof b === "string" ? b : a;
      return system.normalizeId(table, id) === null ? null : system.get(table, id);
    }) as GenericDatabaseReader<any>["system"]["get"],
    query: ((table: any) => {
      if (!isSystemTable(table))
        throw rowDenied(String(table), `ctx.db.system serves only system tables, not ${table}`);
      return system.query(table);
    }) as GenericDatabaseReader<any>["system"]["query"],
  };
}

const TERMINALS = new Set<PropertyKey>(["collect", "take", "first", "unique", "paginate"]);

/** A query (or builder) whose results all pass `check`: builders stay wrapped, results are checked. */
function checkedQuery(inner: object, check: (doc: Doc) => Promise<void>): any {
  return new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === Symbol.asyncIterator) {
        return () => {
          const it = (value as () => AsyncIterator<Doc>).call(target);
          const wrapped: AsyncIterableIterator<Doc> = {
            async next() {
              const r = await it.next();
              if (r.done !== true) await check(r.value);
              return r;
            },
            [Symbol.asyncIterator]() {
              return wrapped;
            },
          };
          return wrapped;
        };
      }
      if (TERMINALS.has(prop)) {
        return async (...args: unknown[]) => {
          const out: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
          const rows =
            out === null
              ? []
              : Array.isArray(out)
                ? out
                : prop === "paginate"
                  ? (out as { page: Doc[] }).page
                  : [out];
          for (const row of rows as Doc[]) await check(row);
          return out;
        };
      }
      return (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return typeof out === "object" && out !== null && "collect" in out
          ? checkedQuery(out, check)
          : out;
      };
    },
  });
}

/**
 * A database for one actor in one function call. `wrote` records whether a
 * write went through, so the wrapper knows whether a later denial can still be
 * returned without committing part of the handler's work.
 */
export function guardedDb(
  db: GenericDatabaseWriter<any>,
  actor: Actor,
  policy: RowPolicy,
  state: { wrote: boolean },
): GenericDatabaseWriter<any> {
  // Rows this call has read or written, as private copies: a write after a `get` reuses the
  // row instead of reading it again, and a handler that edits the object it got cannot make
  // the write rule see an edited "stored" row.
  const seen = new Map<string, Doc>();
  const resolve = (a: string, b: unknown): [string | null, string] =>
    typeof b === "string" ? [a, b] : [policy.tableOf(db, a), a];
  const stored = async (table: string, id: string): Promise<Doc | null> => {
    const normalized = db.normalizeId(table, id);
    if (normalized === null) return null;
    const cached = seen.get(normalized);
    if (cached !== undefined) return copyOf(cached);
    const doc = await db.get(table, normalized);
    if (doc !== null) seen.set(normalized, copyOf(doc));
    return doc;
  };

  const get = async (a: any, b?: any): Promise<any> => {
    const [table, id] = resolve(a, b);
    if (table === null) return null;
    const doc = await stored(table, id);
    if (doc === null) return null;
    return (await policy.canRead(actor, table, doc)) ? doc : null;
  };

  const query = (table: any): any => {
    if (!policy.readsTable(table))
      throw rowDenied(table, `table ${table} has no read rule and is not public`);
    return checkedQuery(db.query(table), async (doc) => {
      if (!(await policy.canRead(actor, table, doc)))
        throw rowDenied(
          table,
          `a row of ${table} read through ctx.db.query fails its read rule: select the actor's rows by index`,
        );
    });
  };

  /** The stored row a write targets; a missing and a foreign row are the same denial. */
  const target = async (a: string, b: unknown, what: string) => {
    const [table, id] = resolve(a, b);
    const old = table === null ? null : await stored(table, id);
    if (table === null || old === null || !(await policy.canRead(actor, table, old)))
      throw rowDenied(table ?? "unknown", `${what}: no such row, or not one the actor may write`);
    return { table, id: old._id as GenericId<string>, old };
  };
  const write = async (
    table: string,
    old: Doc,
    next: Doc | null,
    what: string,
    apply: () => Promise<void>,
  ) => {
    if (!(await policy.canWrite(actor, table, old, next)))
      throw rowDenied(table, `${what} on ${table}: the row rule refuses this change`);
    await apply();
    state.wrote = true;
    if (next === null) seen.delete(old._id as string);
    else seen.set(old._id as string, copyOf(next));
  };

  const wrapped: GenericDatabaseWriter<any> = {
    system: systemOnly(db.system),
    vars: db.vars,
    normalizeId: (table, id) => db.normalizeId(table, id),
    get,
    query,
    // Each write checks and stores a private copy of the value: a handler that edits its
    // object while the write awaits cannot store a row the rule never saw.
    async insert(table: any, proposed: any): Promise<any> {
      const value = copyOf(proposed as Doc);
      if (!(await policy.canInsert(actor, table, value)))
        throw rowDenied(table, `insert into ${table}: the row rule refuses this row`);
      const id = await db.insert(table, value);
      state.wrote = true;
      return id;
    },
    async patch(a: any, b: any, c?: any) {
      const value = copyOf((typeof b === "string" ? c : b) as Record<string, unknown>);
      const { table, id, old } = await target(a, b, "patch");
      const next: Doc = { ...old };
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) delete next[k];
        else next[k] = v as Doc[string];
      }
      await write(table, old, next, "patch", () => db.patch(table, id, value));
    },
    async replace(a: any, b: any, c?: any) {
      const value = copyOf((typeof b === "string" ? c : b) as Doc);
      const { table, id, old } = await target(a, b, "replace");
      // A replacement keeps the stored row's system fields (`_id`, `_creationTime`).
      const system = Object.entries(old).filter(([k]) => k.startsWith("_"));
      const next: Doc = { ...value, ...Object.fromEntries(system) };
      await write(table, old, next, "replace", () => db.replace(table, id, value));
    },
    async delete(a: any, b?: any) {
      const { table, id, old } = await target(a, b, "delete");
      await write(table, old, null, "delete", () => db.delete(table, id));
    },
  };
  return wrapped;
}
