/**
 * The HTTP routes of `http.ts`, each requested once without credentials on a
 * fresh state: a finding when the response carries a user's canary or the
 * request changed the app's rows. Status codes decide nothing.
 */
import type { HttpRouteInfo } from "./inventory.js";
import type { Expectation, Finding } from "./report.js";
import type { Scenario } from "./scenario.js";
import { diff, type Snapshot } from "./state.js";
import { markersIn } from "./values.js";

export type HttpProbeEnv = {
  fresh: () => Promise<Scenario>;
  snapshot: (s: Scenario) => Promise<Snapshot>;
  expect: Record<string, Expectation>;
  count: () => void;
};

/** The findings of anonymous requests to every route ("POST /path" in findings and `expect`). */
export async function probeHttp(routes: HttpRouteInfo[], env: HttpProbeEnv): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const route of routes) {
    const name = `${route.method} ${route.path}`;
    const path = route.path.endsWith("*") ? `${route.path.slice(0, -1)}probe` : route.path;
    const body = route.method === "GET" || route.method === "HEAD" ? undefined : "{}";
    const s = await env.fresh();
    env.count();
    let text = "";
    try {
      const response = await s.t.fetch(path, {
        method: route.method,
        ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
      });
      text = await response.text();
    } catch {
      // A handler that throws answers nothing; its writes, if any, still show in the diff.
    }
    const after = await env.snapshot(s);
    const args: Record<string, string> = body === undefined ? {} : { body };
    const repro = { identity: null, function: name, args };
    const read = markersIn(text, [...s.a.claim.markers, ...s.b.claim.markers]);
    const changed = diff(s.snap, after);
    const detail =
      read.length > 0
        ? `an anonymous request got ${read.join(", ")}`
        : changed.length > 0
          ? `an anonymous request changed rows: ${changed.map((c) => `${c.table} ${c.id} ${c.change}`).join(", ")}`
          : undefined;
    const allowedRead = env.expect[name] === "anonymous" && changed.length === 0;
    if (detail !== undefined && !allowedRead)
      findings.push({ function: name, kind: "anonymous_access", detail, repro });
  }
  return findings;
}
