/**
 * One probe state: a fresh convexTest instance where users A and B have made
 * their own rows through the app's public creators (and the `seed`), with
 * every document attributed to its owner. Deterministic: the same app and
 * options build the same state, ids included.
 */
import type { TestConvexForDataModel } from "convex-test";
import { makeFunctionReference, type UserIdentity } from "convex/server";
import type { GenericId, Value } from "convex/values";
import type { FunctionInfo } from "./inventory.js";
import { attribute, idsOf, snapshot, type Claim, type Snapshot } from "./state.js";
import { generate, idsIn, idTables, MissingId, type Filler } from "./values.js";

/** A convexTest instance (the value `convexTest(schema, modules)` returns). */
export type TestClient = TestConvexForDataModel<any>;

/** A call as the report shows it: who, which function, which arguments. */
export type Call = {
  /** The identity the call ran with; null for an anonymous caller. */
  identity: Partial<UserIdentity> | null;
  function: string;
  args: Record<string, Value>;
};

export type Outcome =
  { ok: true; value: unknown } | { ok: false; error: { code?: string; message: string } };

/** One of the probe's two users, as `seed` sees it. */
export type ProbeUser = {
  name: "A" | "B";
  identity: UserIdentity;
  /** The test client acting as this user. */
  as: TestClient;
  /** A new canary string of this user: put it in each row you seed for them. */
  canary(): string;
  /** The ids of this user's rows in `table`, oldest first. */
  ids(table: string): string[];
};

export type Party = ProbeUser & {
  claim: Claim & { markers: string[] };
  /** subject, tokenIdentifier, email: what an argument could carry to name this user. */
  identityValues: string[];
};

export type Scenario = {
  t: TestClient;
  a: Party;
  b: Party;
  snap: Snapshot;
  /** Ids of the rows that stand for a user (they carry the user's identity values). */
  identityIds: Set<string>;
  identityTables: Set<string>;
};

export type ScenarioSpec = {
  make: () => TestClient;
  tables: string[];
  creators: FunctionInfo[];
  fixedArgs: Record<string, Record<string, Value>>;
  identities: { a?: Partial<UserIdentity>; b?: Partial<UserIdentity> };
  seed?: (users: { t: TestClient; a: ProbeUser; b: ProbeUser }) => Promise<void>;
  /** Counts every function call the probe makes. */
  count: () => void;
};

const ISSUER = "https://probe.invalid";

function identityFor(name: "A" | "B", extra: Partial<UserIdentity> = {}): UserIdentity {
  const handle = `probe-user-${name.toLowerCase()}`;
  return {
    issuer: ISSUER,
    subject: handle,
    tokenIdentifier: `${ISSUER}|${handle}`,
    email: `${handle}@probe.invalid`,
    emailVerified: true,
    name: `Probe User ${name}`,
    ...extra,
  };
}

function party(t: TestClient, name: "A" | "B", extra?: Partial<UserIdentity>): Party {
  const identity = identityFor(name, extra);
  const identityValues = [identity.subject, identity.tokenIdentifier, identity.email].filter(
    (s): s is string => typeof s === "string" && s.length > 0,
  );
  const claim = { markers: [...identityValues], ids: new Set<string>() };
  let next = 0;
  const p: Party = {
    name,
    identity,
    as: t.withIdentity(identity) as TestClient,
    canary() {
      const c = `probe${name}${++next}x`;
      claim.markers.push(c);
      return c;
    },
    ids: () => [],
    claim,
    identityValues,
  };
  return p;
}

/** The error a call was rejected with, as code and message. */
export function errorOf(e: unknown): { code?: string; message: string } {
  const data = (e as { data?: unknown }).data;
  if (typeof data === "object" && data !== null) {
    const { code, message } = data as { code?: unknown; message?: unknown };
    return {
      ...(typeof code === "string" ? { code } : {}),
      message: typeof message === "string" ? message : JSON.stringify(data),
    };
  }
  if (typeof data === "string") return { message: data };
  return { message: e instanceof Error ? e.message : String(e) };
}

/** Calls `f` on `client`, never throwing: a rejection is an outcome like a result. */
export async function invoke(
  client: TestClient,
  f: Pick<FunctionInfo, "path" | "type">,
  args: Record<string, Value>,
): Promise<Outcome> {
  try {
    const value =
      f.type === "query"
        ? await client.query(makeFunctionReference<"query">(f.path), args)
        : f.type === "mutation"
          ? await client.mutation(makeFunctionReference<"mutation">(f.path), args)
          : await client.action(makeFunctionReference<"action">(f.path), args);
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: errorOf(e) };
  }
}

/** A result that says no: `{ ok: false, ... }` (Access and ApiKeys wrappers, limits). */
export function isRefusal(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { ok?: unknown }).ok === false;
}

/** Arguments for `f`, strings from `string`, ids from `id`, then the app's fixed values on top. */
export function argsFor(
  f: FunctionInfo,
  fixed: Record<string, Value> | undefined,
  string: Filler["string"],
  id: Filler["id"],
): Record<string, Value> | undefined {
  try {
    // A function without an args validator takes anything: call it with no arguments.
    const generated = f.args.type === "any" ? {} : generate(f.args, { string, id });
    if (typeof generated !== "object" || generated === null || Array.isArray(generated))
      return undefined;
    return { ...(generated as Record<string, Value>), ...fixed };
  } catch (e) {
    if (e instanceof MissingId) return undefined;
    throw e;
  }
}

/** The creators of the app: public mutations whose `returns` holds an id. */
export function creatorsOf(functions: FunctionInfo[]): FunctionInfo[] {
  return functions.filter(
    (f) =>
      f.visibility === "public" &&
      f.type === "mutation" &&
      f.marker?.wrapper !== "apiKey" &&
      idTables(f.returns).length > 0,
  );
}

/**
 * Builds a fresh state: each creator is called as A and as B with its own
 * canaries and its own ids, in passes until a pass makes nothing new (so a
 * creator that needs an account or a parent row runs after the one that
 * makes it); then `seed`; then every row is attributed. `log` receives the
 * setup calls that succeeded.
 */
export async function buildScenario(spec: ScenarioSpec, log?: Call[]): Promise<Scenario> {
  const t = spec.make();
  const a = party(t, "A", spec.identities.a);
  const b = party(t, "B", spec.identities.b);
  let snap = await snapshot(t, spec.tables);
  const refresh = async () => {
    snap = await snapshot(t, spec.tables);
    attribute(snap, [a.claim, b.claim]);
  };
  for (const p of [a, b]) p.ids = (table) => idsOf(snap, p.claim, table);
  const pending = spec.creators.flatMap((f) => [
    { f, p: a },
    { f, p: b },
  ]);
  for (let progress = true; progress && pending.length > 0;) {
    progress = false;
    for (const item of [...pending]) {
      const { f, p } = item;
      const args = argsFor(
        f,
        spec.fixedArgs[f.path],
        () => p.canary(),
        (table) => p.ids(table).at(-1),
      );
      if (args === undefined) continue;
      spec.count();
      const out = await invoke(p.as, f, args);
      if (!out.ok || isRefusal(out.value)) continue;
      pending.splice(pending.indexOf(item), 1);
      progress = true;
      for (const { id } of idsIn(f.returns, out.value)) p.claim.ids.add(id);
      log?.push({ identity: p.identity, function: f.path, args });
      await refresh();
    }
  }
  if (spec.seed) await spec.seed({ t, a, b });
  await refresh();
  const identityIds = new Set<string>();
  const identityTables = new Set<string>();
  for (const doc of snap.values())
    for (const p of [a, b])
      if (p.claim.ids.has(doc.id) && doc.strings.some((s) => p.identityValues.includes(s))) {
        identityIds.add(doc.id);
        identityTables.add(doc.table);
      }
  return { t, a, b, snap, identityIds, identityTables };
}

/**
 * An id of `table` that existed and was deleted: a copy of one of its rows,
 * inserted and deleted again, so it is well-formed and names the table.
 */
export async function deletedId(s: Scenario, table: string): Promise<string | undefined> {
  const source = [...s.snap.values()].find((d) => d.table === table);
  if (source === undefined) return undefined;
  return s.t.run(async (ctx) => {
    const doc = await ctx.db.get(source.id as GenericId<string>);
    if (doc === null) return undefined;
    const { _id: _ignored, _creationTime: _created, ...fields } = doc as Record<string, Value>;
    const id = await ctx.db.insert(table, fields);
    await ctx.db.delete(id);
    return String(id);
  });
}
