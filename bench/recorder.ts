/**
 * Records the read and write sets of database calls made through convex-test,
 * by wrapping the syscall layer every Convex function uses (`global.Convex`).
 * The contention model compares these sets across calls that start from the
 * same snapshot (as concurrent mutations on a real deployment do).
 *
 * Read set: every document id returned by a `get`, query or page, plus every
 * index range queried (a later insert into that range is a conflict too: this
 * is how Convex's optimistic concurrency control decides). Write set: every
 * document inserted, patched, replaced or deleted, with its new field values.
 * A query's whole range counts as read even when `.take(n)` stopped early:
 * conservative (it can only over-count conflicts). Reads of a nested query
 * run with `useStaleSnapshot` are not recorded: it has no read dependency.
 */
type RangeFilter = { type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte"; fieldPath: string; value: unknown };
type Range = { table: string; filters: RangeFilter[] };
type Written = { id: string; table: string; doc: Record<string, unknown> | null };

export type AccessSet = {
  reads: Set<string>;
  ranges: Range[];
  writes: Map<string, Written>;
};

let current: AccessSet | null = null;
const seen = new Map<string, Record<string, unknown>>();

function rangeOf(query: any): Range {
  const source = query.source;
  if (source.type === "IndexRange") {
    return { table: source.indexName.split(".")[0], filters: source.range };
  }
  return { table: source.tableName ?? String(source.indexName).split(".")[0], filters: [] };
}

function readDoc(doc: any) {
  if (!current || !doc || typeof doc._id !== "string") return;
  current.reads.add(doc._id);
  seen.set(doc._id, doc);
}

function tableOf(id: string, fallback?: string) {
  return fallback ?? id.replace(/^[0-9]+/, "");
}

let installed = false;
/** Wraps `global.Convex`; call after the first convexTest instance exists. Idempotent. */
export function installRecorder() {
  if (installed) return;
  installed = true;
  const g = globalThis as any;
  const orig = g.Convex;
  g.Convex = {
    get syscall() {
      const f = orig.syscall;
      return (op: string, json: string) => {
        const out = f(op, json);
        if (current && op === "1.0/queryStream")
          current.ranges.push(rangeOf(JSON.parse(json).query));
        return out;
      };
    },
    get asyncSyscall() {
      const f = orig.asyncSyscall;
      return async (op: string, json: string) => {
        // A stale-snapshot query adds nothing to the caller's read set: record none of its reads.
        if (current && op === "1.0/runUdf" && JSON.parse(json).udfType === "snapshotQuery") {
          const caller = current;
          current = null;
          try {
            return await f(op, json);
          } finally {
            current = caller;
          }
        }
        const out = await f(op, json);
        if (!current) return out;
        const args = JSON.parse(json);
        const res = JSON.parse(out);
        switch (op) {
          case "1.0/get":
            if (res) readDoc(res);
            else current.reads.add(args.id);
            break;
          case "1.0/queryStreamNext":
            if (!res.done) readDoc(res.value);
            break;
          case "1.0/queryPage":
            current.ranges.push(rangeOf(args.query));
            for (const d of res.page) readDoc(d);
            break;
          case "1.0/insert":
            current.writes.set(res._id, { id: res._id, table: args.table, doc: args.value });
            break;
          case "1.0/shallowMerge":
          case "1.0/replace": {
            const before = seen.get(args.id) ?? {};
            const doc = op === "1.0/replace" ? args.value : { ...before, ...args.value };
            current.reads.add(args.id);
            current.writes.set(args.id, { id: args.id, table: tableOf(args.id, args.table), doc });
            break;
          }
          case "1.0/remove":
            current.reads.add(args.id);
            current.writes.set(args.id, {
              id: args.id,
              table: tableOf(args.id, args.table),
              doc: seen.get(args.id) ?? null,
            });
            break;
        }
        return out;
      };
    },
    get jsSyscall() {
      return orig.jsSyscall;
    },
  };
}

/** Runs `fn` and returns the documents and ranges it read and wrote. Not reentrant. */
export async function record<R>(
  fn: () => Promise<R>,
): Promise<{ result: R | undefined; access: AccessSet; error?: unknown }> {
  const access: AccessSet = { reads: new Set(), ranges: [], writes: new Map() };
  current = access;
  try {
    return { result: await fn(), access };
  } catch (error) {
    return { result: undefined, access, error };
  } finally {
    current = null;
    seen.clear();
  }
}

/**
 * A field value as an index compares it: int64s (`{ $integer }`, base64
 * little-endian) as bigints, and a commit-timestamp placeholder as what it
 * becomes at commit, a real timestamp: after every snapshot a concurrent call
 * read, before the placeholder value a transaction sees for its own rows.
 */
const COMMITTED_AT = 2n ** 62n;
function indexed(x: unknown): unknown {
  if (typeof x !== "object" || x === null) return x;
  if ("$commitTs" in x) return COMMITTED_AT;
  const int = (x as { $integer?: unknown }).$integer;
  if (typeof int !== "string") return x;
  const bytes = Uint8Array.from(atob(int), (c) => c.charCodeAt(0));
  return new DataView(bytes.buffer).getBigInt64(0, true);
}

function cmp(x: unknown, y: unknown): number {
  const [a, b] = [indexed(x), indexed(y)];
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  return (a as any) < (b as any) ? -1 : 1;
}
function inRange(range: Range, w: Written): boolean {
  if (range.table !== w.table || w.doc === null) return false;
  return range.filters.every((f) => {
    const c = cmp(w.doc![f.fieldPath], f.value);
    switch (f.type) {
      case "Eq":
        return c === 0;
      case "Gt":
        return c > 0;
      case "Gte":
        return c >= 0;
      case "Lt":
        return c < 0;
      case "Lte":
        return c <= 0;
    }
  });
}

/** True if `later`, committing after `first`, read something `first` wrote: an OCC retry. */
export function conflicts(first: AccessSet, later: AccessSet): boolean {
  for (const w of first.writes.values()) {
    if (later.reads.has(w.id)) return true;
    if (later.ranges.some((r) => inRange(r, w))) return true;
  }
  return false;
}

/** True if the two calls wrote a common document. */
export function writesIntersect(a: AccessSet, b: AccessSet): boolean {
  for (const id of a.writes.keys()) if (b.writes.has(id)) return true;
  return false;
}
