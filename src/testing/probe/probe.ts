/**
 * `probeAccess`: calls every public function of an app as callers who should
 * reach nothing of user A's (no identity, user B, B naming A in its
 * arguments, A after a delete) and reports what they reached. Decisions come
 * only from canaries in results and from state diffs, never from error codes
 * or how similar two answers look.
 */
import type { Value } from "convex/values";
import { probeFunction, type ProbeEnv } from "./cases.js";
import { probeHttp } from "./http.js";
import { inventory, type ModuleMap } from "./inventory.js";
import type { Expectation, Finding, ProbeReport } from "./report.js";
import {
  buildScenario,
  creatorsOf,
  type Call,
  type Scenario,
  type ScenarioSpec,
  type TestClient,
} from "./scenario.js";
import { snapshot, type Snapshot } from "./state.js";
import { idTables } from "./values.js";

export type ProbeOptions = {
  /** The modules map the app passes to convexTest (`import.meta.glob` of its convex folder). */
  modules: ModuleMap;
  /** The app's schema: the probe diffs its tables. Without it, the tables ids name. */
  schema?: { tables: Record<string, unknown> };
  /** Intended access per function path ("posts:list": "shared"). */
  expect?: Record<string, Expectation>;
  /** Fixed argument values per function path, laid over the generated ones. */
  args?: Record<string, Record<string, Value>>;
  /** Makes rows for A and B that no public mutation creates (put `user.canary()` in each). */
  seed?: ScenarioSpec["seed"];
  /** Identity fields for A and B (defaults: probe-user-a / probe-user-b at probe.invalid). */
  identities?: ScenarioSpec["identities"];
  /**
   * Public functions (or "METHOD /path" routes) not to probe, nor to make
   * rows with: an action that needs an outside service you did not mock.
   */
  skip?: string[];
  /** Probe only these functions and routes (while you fix one). */
  only?: string[];
};

/** Runs the probe. `t` is a factory of fresh convexTest instances (or one instance, shared by every probe). */
export async function probeAccess(
  t: TestClient | (() => TestClient),
  options: ProbeOptions,
): Promise<ProbeReport> {
  const started = performance.now();
  const inv = await inventory(options.modules);
  const wanted = (name: string) =>
    !(options.skip ?? []).includes(name) && (options.only?.includes(name) ?? true);
  const publics = inv.functions.filter((f) => f.visibility === "public");
  const probed = publics.filter((f) => wanted(f.path));
  const tables = options.schema
    ? Object.keys(options.schema.tables)
    : [...new Set(inv.functions.flatMap((f) => [...idTables(f.args), ...idTables(f.returns)]))];
  let probeCalls = 0;
  let setupCalls = 0;
  let states = 0;
  const spec: ScenarioSpec = {
    make: () => {
      states++;
      return typeof t === "function" ? t() : t;
    },
    tables,
    creators: creatorsOf(inv.functions).filter((f) => !(options.skip ?? []).includes(f.path)),
    fixedArgs: options.args ?? {},
    identities: options.identities ?? {},
    ...(options.seed ? { seed: options.seed } : {}),
    count: () => void setupCalls++,
  };
  const setup: Call[] = [];
  const base = await buildScenario(spec, setup);
  const env: ProbeEnv = {
    spec,
    base,
    tables,
    expect: options.expect ?? {},
    fixedArgs: options.args ?? {},
    count: () => void probeCalls++,
    unprobed: [],
    deleters: new Map(),
  };
  const findings: Finding[] = [];

  for (const f of probed) findings.push(...(await probeFunction(env, f, publics)));
  const routes = inv.http.filter((r) => wanted(`${r.method} ${r.path}`));
  for (const f of await probeHttp(routes, {
    fresh: () => buildScenario(spec),
    snapshot: (s: Scenario): Promise<Snapshot> => snapshot(s.t, tables),
    expect: options.expect ?? {},
    count: () => void probeCalls++,
  }))
    findings.push(f);
  return {
    functions: probed.length,
    findings,
    unreachable: inv.functions.filter((f) => f.visibility === "internal").map((f) => f.path),
    skipped: publics.filter((f) => !wanted(f.path)).map((f) => f.path),
    unprobed: env.unprobed,
    http: inv.http,
    setup,
    calls: probeCalls,
    setupCalls,
    states,
    ms: Math.round(performance.now() - started),
  };
}
