/**
 * What `probeAccess` reports, and `expectNoFindings`, which turns findings
 * into one readable test failure.
 */
import type { AccessMarker } from "../../client/accessMarker.js";
import type { HttpRouteInfo } from "./inventory.js";
import type { Call } from "./scenario.js";

export type FindingKind =
  | "anonymous_access"
  | "cross_user_read"
  | "cross_user_write"
  | "identity_from_argument"
  | "existence_leak"
  | "use_after_delete"
  | "parent_swap";

/**
 * Intended access of one function: `"anonymous"` (anyone may read what it
 * returns), `"shared"` (signed-in users may read each other's rows through
 * it), `"service"` (for servers only: every caller the probe has must be
 * refused), or a permission name (its holders only; the probe's users hold
 * none, so an anonymous caller must be refused).
 */
export type Expectation = "anonymous" | "shared" | "service" | (string & {});

export type Finding = {
  /** The Convex function path, "module:export", or "METHOD /path" for an HTTP route. */
  function: string;
  kind: FindingKind;
  detail: string;
  /** The call that shows it, on the state the probe's setup makes (`report.setup`). */
  repro: Call & {
    /** Calls to make first (the delete before a use-after-delete). */
    after?: Call[];
  };
};

export type ProbeReport = {
  /** Public functions probed. */
  functions: number;
  findings: Finding[];
  /** Internal functions: no client can call them, so they are not probed. */
  unreachable: string[];
  /** Public functions left out by `options.skip` or `options.only`. */
  skipped: string[];
  /**
   * Functions probed without A's ids for some argument (A had no row of its
   * table): a `seed` that makes one lets the probe reach them.
   */
  unprobed: Array<{ function: string; reason: string }>;
  /** The app's HTTP routes, each probed with an anonymous request. */
  http: Array<HttpRouteInfo & { marker?: AccessMarker }>;
  /** The calls that built every probe state: the app's own creators, as A and as B. */
  setup: Call[];
  /** Calls the probes made (the setup's calls aside). */
  calls: number;
  /** Calls that built the fresh states (the creators, as A and as B, in each). */
  setupCalls: number;
  /** Fresh states built (each a new convexTest instance, when `t` is a factory). */
  states: number;
  /** Wall time of the whole probe, in milliseconds. */
  ms: number;
};

function who(call: Call): string {
  if (call.identity === null) return "anonymous";
  const subject = call.identity.subject ?? "";
  return subject.endsWith("-a") ? "A" : subject.endsWith("-b") ? "B" : subject;
}

const line = (call: Call) => `${who(call)}: ${call.function} ${JSON.stringify(call.args)}`;

/** The findings as text: one block per finding, with the call that replays it. */
export function formatFindings(report: ProbeReport): string {
  const head = `probeAccess: ${report.findings.length} finding(s) in ${report.functions} public functions`;
  const blocks = report.findings.map((f) =>
    [
      `  ${f.function}  ${f.kind}`,
      `    ${f.detail}`,
      ...(f.repro.after ?? []).map((c) => `    first   ${line(c)}`),
      `    replay  ${line(f.repro)}`,
    ].join("\n"),
  );
  return [head, ...blocks].join("\n");
}

/** Throws (failing the test) with a readable list when the report has findings. */
export function expectNoFindings(report: ProbeReport): void {
  if (report.findings.length === 0) return;
  throw new Error(formatFindings(report));
}
