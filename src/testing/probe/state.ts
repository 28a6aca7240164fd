/**
 * The app's tables as the probe sees them: a snapshot of every document,
 * whose documents belong to whom (by the markers each party was given and the
 * ids its rows point to), and what changed between two snapshots.
 */
import { convexToJson, type Value } from "convex/values";
import { stringsIn } from "./values.js";

export type Doc = { table: string; id: string; body: string; strings: string[] };
/** Every document of the app's tables, by id, in table then creation order. */
export type Snapshot = Map<string, Doc>;

type RunCtx = {
  db: { query(table: string): { collect(): Promise<Array<Record<string, Value>>> } };
};
export type Runner = { run<T>(f: (ctx: RunCtx) => Promise<T>): Promise<T> };

/** Keys sorted, so equal documents print equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export async function snapshot(t: Runner, tables: readonly string[]): Promise<Snapshot> {
  const rows = await t.run(async (ctx) => {
    const out: Array<{ table: string; doc: Record<string, Value> }> = [];
    for (const table of tables)
      for (const doc of await ctx.db.query(table).collect()) out.push({ table, doc });
    return out;
  });
  const snap: Snapshot = new Map();
  for (const { table, doc } of rows) {
    const { _id, _creationTime: _created, ...fields } = doc;
    const json = convexToJson(fields);
    snap.set(String(_id), {
      table,
      id: String(_id),
      body: canonical(json),
      strings: stringsIn(json),
    });
  }
  return snap;
}

/** A party's claim on documents: the strings it was given and the ids of its own rows. */
export type Claim = { markers: readonly string[]; ids: Set<string> };

function touches(doc: Doc, claim: Claim, skip: ReadonlySet<string> = new Set()): boolean {
  return doc.strings.some(
    (s) =>
      (claim.ids.has(s) && !skip.has(s)) ||
      claim.markers.some((m) => !skip.has(m) && s.includes(m)),
  );
}

/**
 * Which documents belong to each party: a document carrying a party's marker
 * or pointing to one of its documents is its own, until nothing changes. A
 * document that ends up claimed by both (a row linking the two) is neither's.
 */
export function attribute(snap: Snapshot, claims: Claim[]): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const doc of snap.values()) {
      const owners = claims.filter((c) => c.ids.has(doc.id) || touches(doc, c));
      if (owners.length !== 1) continue;
      const [owner] = owners;
      if (owner !== undefined && !owner.ids.has(doc.id)) {
        owner.ids.add(doc.id);
        changed = true;
      }
    }
  }
  for (const doc of snap.values()) {
    const owners = claims.filter((c) => c.ids.has(doc.id));
    if (owners.length > 1) for (const c of owners) c.ids.delete(doc.id);
  }
}

/** The ids of `claim`'s documents in one table, oldest first. */
export function idsOf(snap: Snapshot, claim: Claim, table: string): string[] {
  return [...snap.values()]
    .filter((d) => d.table === table && claim.ids.has(d.id))
    .map((d) => d.id);
}

export type Change = { id: string; table: string; change: "changed" | "deleted" | "inserted" };

/** Every document that differs between two snapshots. */
export function diff(before: Snapshot, after: Snapshot): Change[] {
  const out: Change[] = [];
  for (const [id, doc] of before) {
    const now = after.get(id);
    if (now === undefined) out.push({ id, table: doc.table, change: "deleted" });
    else if (now.body !== doc.body) out.push({ id, table: doc.table, change: "changed" });
  }
  for (const [id, doc] of after)
    if (!before.has(id)) out.push({ id, table: doc.table, change: "inserted" });
  return out;
}

/**
 * What a call did to the victim's rows: its documents changed or deleted, or
 * a document written in its name (carrying its markers or pointing to its
 * identity rows) with nothing of the caller in it. Strings the call passed
 * are not the victim's marks when they land in a caller-made row.
 */
export function victimChanges(
  before: Snapshot,
  after: Snapshot,
  victim: Claim,
  caller: Claim | null,
  identityIds: ReadonlySet<string>,
): Change[] {
  return diff(before, after).filter((c) => {
    if (c.change !== "inserted") return victim.ids.has(c.id);
    const doc = after.get(c.id);
    if (doc === undefined) return false;
    const inName =
      doc.strings.some((s) => identityIds.has(s)) ||
      doc.strings.some((s) => victim.markers.some((m) => s.includes(m)));
    return inName && (caller === null || !touches(doc, caller));
  });
}
