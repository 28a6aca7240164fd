/** Renders the asynchronous-limits rows of bench/async.ts. */
import type { AsyncBench } from "./async.js";

import { n, table } from "./markdown.js";

export function asyncSection(a: AsyncBench): string[] {
  return [
    `### Asynchronous limits (hot keys)`,
    "",
    `One hot key, N calls from the same snapshot (the contention model below): conflicts per pair and calls retried per round.`,
    "",
    table(
      [
        "Scenario",
        "Impl",
        "Conflicting pairs %",
        "Retried per round of N %",
        "Recorded reads / writes per call",
      ],
      a.contention.map((c) => [
        c.scenario,
        c.impl,
        n(c.conflictPct, 1),
        n(c.retriedPerRoundPct, 1),
        `${n(c.readsPerCall)} / ${n(c.writesPerCall)}`,
      ]),
    ),
    "",
    `Over-admission at 2× and 10× overload (model: token bucket 100/s, capacity 100, 10 s; each call decides on the snapshot at its ` +
      `start and commits 20 ms later; the fold (ours) or the worker (the peer's) applies committed calls every second; decisions by each ` +
      `implementation's own rule, the peer's through its exported \`calculateRateLimit\` on the applied state).`,
    "",
    table(
      [
        "Overload",
        "Impl",
        "Admitted beyond an exact limiter %",
        "Most in one second / exact",
        "Lowest balance",
      ],
      a.overload.map((o) => [
        `${o.overload}×`,
        o.impl,
        n(o.overPct, 1),
        n(o.peakRatio),
        n(o.lowestBalance, 1),
      ]),
    ),
    "",
    `Documents one asynchronous \`limit\` reads and writes (convex-test metrics), by calls not folded yet:`,
    "",
    table(
      ["Call", "Impl", "Reads / writes"],
      a.costs.map((c) => [c.call, c.impl, `${c.documentsRead} / ${c.documentsWritten}`]),
    ),
    "",
    `The fold, per folded call (100 calls on one key in one pass): ${n(a.foldPerCall.documentsRead)} reads / ` +
      `${n(a.foldPerCall.documentsWritten)} writes.`,
    "",
  ];
}
