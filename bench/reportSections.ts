/** The report's background-maintenance and audit-integrity sections (see ./report.ts). */
import type { AuditIntegrity } from "./auditIntegrity.js";
import type { BundleSize } from "./bundleSize.js";
import type { MaintenanceBench } from "./maintenance.js";
import { n, table } from "./markdown.js";

export function maintenanceSection(M: MaintenanceBench): string[] {
  const S = M.steady;
  return [
    `### Background maintenance`,
    "",
    table(
      ["Deployment", "Scheduled executions"],
      [
        ["never used, 24 hours", n(M.unusedPerDay)],
        ["idle after using every capability (work done), 24 hours", n(M.idlePerDay)],
        [
          `steady traffic: ${n(S.calls)} calls at ${S.callsPerSecond}/s (limit, log, issue, check)`,
          `${n(S.ticks)} ticks = ${n(S.ticksPer1000, 1)} per 1,000 calls`,
        ],
        ["after that traffic stops, until nothing is scheduled", n(S.drainExecutions)],
      ],
    ),
    "",
    `Wake-up writes of the loop state during that traffic: ${n(S.wakeWritesPer1000, 1)} per 1,000 calls.`,
    "",
    table(
      [
        "Concurrent `audit.log` calls",
        "N",
        "Retried per round (conflict with an earlier call)",
        "Retried per round if the tick commits meanwhile",
        "Calls writing the loop state per round",
      ],
      M.wake.map((w) => [
        w.scenario,
        n(w.n),
        n(w.retriedPerRound, 2),
        w.retriedByTick === null ? "–" : n(w.retriedByTick, 2),
        n(w.stateWritesPerRound, 2),
      ]),
    ),
    "",
    `Same read/write-set model as the contention table below. A wake-up reads the loop state through a stale snapshot ` +
      `(no read dependency); only an idle loop, a later tick or a tick due within the trust lead makes it read the state ` +
      `for real, and only an idle loop or a later tick makes it write.`,
    "",
  ];
}

export function integritySection(A: AuditIntegrity): string[] {
  const F = A.fuzz;
  const W = A.window;
  return [
    `### Audit log integrity`,
    "",
    table(
      [
        "Tamper fuzzer (seed " + F.seed + ")",
        "Tamperings",
        "Caught by verify",
        "Only with an anchor",
        "Inside the unsealed window",
        "No-op (schema refused, no change)",
        "Other (undetected)",
      ],
      [
        [
          "every audit table: edit, delete, duplicate, move, forge, rewrite",
          n(F.runs),
          n(F.verify),
          n(F.anchor),
          n(F.window),
          n(F.noop),
          n(F.other),
        ],
      ],
    ),
    "",
    table(
      ["Commit-to-seal window", "Events", "p50", "p99", "max"],
      [
        [
          `steady \`audit.log\` at ${W.eventsPerSecond}/s for ${n(W.seconds)} s (simulated), loop waking on demand`,
          n(W.events),
          `${n(W.p50Ms / 1000, 1)} s`,
          `${n(W.p99Ms / 1000, 1)} s`,
          `${n(W.maxMs / 1000, 1)} s`,
        ],
      ],
    ),
    "",
    `The fuzzer is \`test/audit/fuzz.test.ts\` replayed with a fixed seed. The window is each event's seal time minus its ` +
      `commit time: until then an admin can edit or delete it unseen (\`seal(ctx)\` right after a critical \`log\` closes it).`,
    "",
  ];
}

export function bundleSection(B: BundleSize): string[] {
  return [
    `### Browser bundle`,
    "",
    table(
      ["Module", "Ours (bytes)", "Peer (bytes)"],
      [
        ["`useRateLimit` (`convex-guard/react`)", n(B.oursBytes), n(B.peerBytes)],
        ["host client (`convex-guard`)", n(B.clientBytes), n(B.peerClientBytes)],
      ],
    ),
    "",
    `Each bundled alone by esbuild, minified, ESM, with \`react\` and \`convex\` external (an app has them already). ` +
      `Ours projects every kind (src/component/rateLimits/projection.ts); the peer's, token buckets and fixed windows. ` +
      `Our host client holds every capability (rate limits, audit log, codes, API keys, access) and checks each call against ` +
      `the component function's argument validator, imported from the capability's model.ts, never the component's server code; ` +
      `the peer's is rate limits only.`,
    "",
  ];
}
