/**
 * The probes of one public function, each on a fresh state (queries share
 * one: they cannot write): anonymous, cross-user, identity from an argument,
 * existence, parent/child swap, use after delete. A finding needs a canary in
 * a result or a change in the victim's rows; error codes decide nothing.
 */
import type { Value } from "convex/values";
import type { FunctionInfo } from "./inventory.js";
import type { Expectation, Finding, FindingKind } from "./report.js";
import {
  argsFor,
  buildScenario,
  deletedId,
  invoke,
  isRefusal,
  type Call,
  type Outcome,
  type Party,
  type Scenario,
  type ScenarioSpec,
} from "./scenario.js";
import { diff, snapshot, victimChanges, type Change, type Snapshot } from "./state.js";
import { markersIn, slots, stringsIn, type Slot } from "./values.js";

/** What the probes of every function share. */
export type ProbeEnv = {
  spec: ScenarioSpec;
  /** The state queries run on (built once; queries cannot change it). */
  base: Scenario;
  tables: string[];
  expect: Record<string, Expectation>;
  fixedArgs: Record<string, Record<string, Value>>;
  /** Counts one probe call. */
  count: () => void;
  /** A state no call has changed yet, ready for the next probe of a mutation. */
  spare?: Scenario;
  /** Functions whose id arguments the probe had nothing of A's to fill with. */
  unprobed: Array<{ function: string; reason: string }>;
  /** The public mutation (and its id slot) that deletes A's row of a table, once found. */
  deleters: Map<string, Deleter>;
};

type Slotted = Slot & { table: string };
export type Deleter = { f: FunctionInfo; slot: string } | null;

/** What a marker implies when no declaration is given. */
function implied(f: Pick<FunctionInfo, "marker">): Expectation | undefined {
  if (f.marker?.wrapper === "apiKey") return "service";
  return f.marker?.permission;
}

/** Read findings an expectation allows; writes and use after delete are always findings. */
function allowed(expectation: Expectation | undefined, kind: FindingKind, read: boolean): boolean {
  if (!read || kind === "use_after_delete") return false;
  if (expectation === "anonymous") return true;
  return expectation === "shared" && kind !== "anonymous_access";
}

const describe = (changes: Change[]) =>
  changes.map((c) => `${c.table} ${c.id} ${c.change}`).join(", ");

/** An outcome as text with every id replaced, to compare two answers. */
function shown(out: Outcome, ids: string[]): string {
  const text = out.ok
    ? JSON.stringify(out.value ?? null, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))
    : `error ${out.error.code ?? ""} ${out.error.message}`;
  return ids.reduce((s, id) => s.split(id).join("<id>"), text);
}

const call = (p: Party | null, f: FunctionInfo, args: Record<string, Value>): Call => ({
  identity: p === null ? null : p.identity,
  function: f.path,
  args,
});

/** Markers of `victim` in a result, less those the call itself passed in. */
function leaked(out: Outcome, victim: Party, args: Record<string, Value>): string[] {
  if (!out.ok) return [];
  const passed = stringsIn(args);
  return markersIn(out.value, victim.claim.markers).filter(
    (m) => !passed.some((p) => p.includes(m)),
  );
}

/** What marks a row as the caller's own: its identity values and its rows' ids (not the canaries it passed). */
const callerClaim = (p: Party) => ({ markers: p.identityValues, ids: p.claim.ids });

function runner(env: ProbeEnv) {
  const snap = (s: Scenario): Promise<Snapshot> => snapshot(s.t, env.tables);
  return async (s: Scenario, p: Party | null, f: FunctionInfo, args: Record<string, Value>) => {
    env.count();
    const before = f.type === "query" ? s.snap : await snap(s);
    const client = p === null ? s.t : p.as;
    const out = await invoke(client, f, args);
    const after = f.type === "query" ? before : await snap(s);
    return { out, before, after };
  };
}

/**
 * The public mutation that deletes A's row of `table` when A calls it, if
 * any: the app's own delete, so what it cleans up (or leaves) is what a user
 * gets. Found once per table.
 */
async function deleterOf(
  env: ProbeEnv,
  table: string,
  candidates: FunctionInfo[],
): Promise<Deleter> {
  const known = env.deleters.get(table);
  if (known !== undefined) return known;
  const run = runner(env);
  let found: Deleter = null;
  for (const f of candidates) {
    if (f.type !== "mutation" || f.marker?.wrapper === "apiKey") continue;
    const slot = slots(f.args).find((s) => s.table === table);
    if (slot === undefined) continue;
    const s = await buildScenario(env.spec);
    const target = s.a.ids(table)[0];
    const args = ownArgs(env, s.a, f, { [slot.path]: target });
    if (target === undefined || args === undefined) break;
    const { after } = await run(s, s.a, f, args);
    if (!after.has(target)) {
      found = { f, slot: slot.path };
      break;
    }
  }
  env.deleters.set(table, found);
  return found;
}

/** Arguments in `p`'s name: its canaries, its own ids, except the slots in `pick`. */
function ownArgs(
  env: ProbeEnv,
  p: Party,
  f: FunctionInfo,
  pick: Record<string, string | undefined> = {},
  string?: () => string,
) {
  return argsFor(f, env.fixedArgs[f.path], string ?? (() => p.canary()), (table, path) =>
    path in pick ? pick[path] : p.ids(table)[0],
  );
}

/** Every finding about `f`, at most one per kind. `publics` are the app's public functions (deleter candidates). */
export async function probeFunction(
  env: ProbeEnv,
  f: FunctionInfo,
  publics: FunctionInfo[],
): Promise<Finding[]> {
  const { base, spec } = env;
  const run = runner(env);
  const expectation = env.expect[f.path] ?? implied(f);
  const strict = expectation === "service";
  const gated =
    strict || (expectation !== undefined && !["anonymous", "shared"].includes(expectation));
  const found = new Map<FindingKind, Finding>();
  const add = (kind: FindingKind, read: boolean, detail: string, repro: Finding["repro"]) => {
    if (allowed(expectation, kind, read) || found.has(kind)) return;
    found.set(kind, { function: f.path, kind, detail, repro });
  };
  const fresh = async () => {
    if (f.type === "query") return base;
    const spare = env.spare;
    env.spare = undefined;
    return spare ?? buildScenario(spec);
  };
  /**
   * A mutation that threw rolled back everything it wrote, the component's
   * rows included: its state is still fresh and serves the next probe.
   */
  const keep = (s: Scenario, out?: Outcome) => {
    if (f.type === "mutation" && s !== base && (out === undefined || !out.ok)) env.spare = s;
  };
  const idSlots = slots(f.args).filter((s): s is Slotted => s.table !== undefined);
  const hasStrings = f.args.type !== "any" && slots(f.args).some((s) => s.table === undefined);

  /** B's call, judged for reads and writes of A's rows. */
  async function asB(
    kind: FindingKind,
    s: Scenario,
    args: Record<string, Value> | undefined,
    what: string,
  ) {
    if (args === undefined) return keep(s);
    const { out, before, after } = await run(s, s.b, f, args);
    keep(s, out);
    const repro = call(s.b, f, args);
    const read = leaked(out, s.a, args);
    if (read.length > 0)
      add(
        kind === "cross_user_write" ? "cross_user_read" : kind,
        true,
        `B ${what} and got A's ${read.join(", ")}`,
        repro,
      );
    const wrote = victimChanges(before, after, s.a.claim, callerClaim(s.b), s.identityIds);
    if (wrote.length > 0)
      add(kind, false, `B ${what} and changed A's rows: ${describe(wrote)}`, repro);
    if (strict && kind === "cross_user_write" && out.ok && !isRefusal(out.value))
      add(
        "anonymous_access",
        false,
        `declared ${expectation}, yet a signed-in user without a key got an answer`,
        repro,
      );
  }

  // Anonymous: no identity, A's ids.
  {
    const s = await fresh();
    const args = argsFor(
      f,
      env.fixedArgs[f.path],
      () => "probeN0x",
      (table) => s.a.ids(table)[0] ?? s.b.ids(table)[0],
    );
    if (args === undefined) keep(s);
    else {
      const { out, before, after } = await run(s, null, f, args);
      keep(s, out);
      const repro = call(null, f, args);
      const read = [...leaked(out, s.a, args), ...leaked(out, s.b, args)];
      if (read.length > 0)
        add("anonymous_access", true, `an anonymous caller got ${read.join(", ")}`, repro);
      const changed = diff(before, after);
      if (changed.length > 0)
        add(
          "anonymous_access",
          false,
          `an anonymous call changed rows: ${describe(changed)}`,
          repro,
        );
      if (gated && out.ok && !isRefusal(out.value))
        add(
          "anonymous_access",
          false,
          `declared ${expectation}, yet an anonymous caller got an answer`,
          repro,
        );
    }
  }

  // Cross-user: B with A's ids (B's own rows where a slot names a user).
  {
    const s = await fresh();
    const args = argsFor(
      f,
      env.fixedArgs[f.path],
      () => s.b.canary(),
      (table) =>
        s.identityTables.has(table) ? s.b.ids(table)[0] : (s.a.ids(table)[0] ?? s.b.ids(table)[0]),
    );
    await asB("cross_user_write", s, args, `called it with A's ids`);
    const missing = idSlots.filter((slot) => s.a.ids(slot.table).length === 0);
    if (missing.length > 0)
      env.unprobed.push({
        function: f.path,
        reason: `A has no ${[...new Set(missing.map((m) => m.table))].join(", ")} row to pass: no public mutation made one; add a seed`,
      });
  }

  // Identity from an argument: A's subject, tokenIdentifier, email in every string; A's user ids.
  if (hasStrings)
    for (const value of base.a.identityValues) {
      const s = await fresh();
      await asB(
        "identity_from_argument",
        s,
        ownArgs(env, s.b, f, {}, () => value),
        `passed A's "${value}"`,
      );
    }
  const userSlots = idSlots.filter((slot) => base.identityTables.has(slot.table));
  if (userSlots.length > 0) {
    const s = await fresh();
    const pick = Object.fromEntries(userSlots.map((slot) => [slot.path, s.a.ids(slot.table)[0]]));
    await asB("identity_from_argument", s, ownArgs(env, s.b, f, pick), `passed A's user id`);
  }

  // Existence: B's answer for A's id against B's answer for a deleted id of the same table.
  for (const slot of idSlots) {
    const s = await fresh();
    const mine = s.a.ids(slot.table)[0];
    const gone = await deletedId(s, slot.table);
    const withGone = ownArgs(env, s.b, f, { [slot.path]: gone });
    const withMine = ownArgs(env, s.b, f, { [slot.path]: mine });
    if (mine === undefined || gone === undefined || !withGone || !withMine) continue;
    const g = await run(s, s.b, f, withGone);
    const m = await run(s, s.b, f, withMine);
    if (leaked(m.out, s.a, withMine).length > 0) continue;
    if (victimChanges(m.before, m.after, s.a.claim, callerClaim(s.b), s.identityIds).length > 0)
      continue;
    const ids = [mine, gone, ...g.after.keys(), ...m.after.keys()];
    const [a, d] = [shown(m.out, ids), shown(g.out, ids)];
    if (a !== d)
      add(
        "existence_leak",
        true,
        `B's answer for A's ${slot.table} id (${a}) differs from its answer for a deleted one (${d})`,
        call(s.b, f, withMine),
      );
  }

  // Parent/child swaps: one slot B's, another A's.
  for (const own of idSlots)
    for (const other of idSlots) {
      if (own === other || base.identityTables.has(own.table)) continue;
      if (base.identityTables.has(other.table)) continue;
      const s = await fresh();
      const args = ownArgs(env, s.b, f, {
        [own.path]: s.b.ids(own.table)[0],
        [other.path]: s.a.ids(other.table)[0],
      });
      await asB("parent_swap", s, args, `passed its own ${own.path} with A's ${other.path}`);
    }

  // Use after delete: A deletes its row through the app, then calls with its id.
  for (const slot of idSlots) {
    const deleter = await deleterOf(env, slot.table, publics);
    if (deleter === null) continue;
    const s = await buildScenario(spec);
    const target = s.a.ids(slot.table)[0];
    const removal = ownArgs(env, s.a, deleter.f, { [deleter.slot]: target });
    const args = ownArgs(env, s.a, f, { [slot.path]: target });
    if (target === undefined || !removal || !args) continue;
    await run(s, s.a, deleter.f, removal);
    const content = (s.snap.get(target)?.strings ?? []).filter((x) =>
      s.a.claim.markers.some((m) => x.includes(m)),
    );
    const { out, before, after } = await run(s, s.a, f, args);
    const repro = { ...call(s.a, f, args), after: [call(s.a, deleter.f, removal)] };
    const kept = out.ok
      ? content.filter((c) => stringsIn(out.value).some((x) => x.includes(c)))
      : [];
    if (kept.length > 0)
      add(
        "use_after_delete",
        true,
        `after A deleted its ${slot.table} row, the call still returned ${kept.join(", ")}`,
        repro,
      );
    const dangling = diff(before, after).filter(
      (c) => c.change !== "deleted" && after.get(c.id)?.strings.includes(target),
    );
    if (dangling.length > 0)
      add(
        "use_after_delete",
        false,
        `after A deleted its ${slot.table} row, the call wrote rows pointing at it: ${describe(dangling)}`,
        repro,
      );
  }

  if (
    found.has("cross_user_read") ||
    found.has("cross_user_write") ||
    found.has("identity_from_argument")
  ) {
    found.delete("existence_leak");
    found.delete("parent_swap");
  }
  return [...found.values()];
}
