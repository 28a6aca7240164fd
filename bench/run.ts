/**
 * `npm run bench [-- --quick] [--keys N] [--real-keys N] [--only a,b]`:
 * cost, speed, accuracy, scale and contention of convex-guard, side by side
 * with @convex-dev/rate-limiter, in one convex-test process. Prints Markdown,
 * writes bench/results.json and bench/RESULTS.md, and exits 1 if a measured
 * value breaks a promise in bench/promises.ts (or a section fails).
 *
 * Run through scripts/vite-run.ts (Vite's SSR loader, for import.meta.glob).
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { installClock, uninstallClock } from "./harness.js";
import { limitCosts, type LimitCall, type LimitCostRow } from "./costLimits.js";
import { auditBench, confirmationsBench } from "./costGuard.js";
import { apiKeyCosts, apiKeysHot } from "./costApiKeys.js";
import { accessCosts } from "./costAccess.js";
import { speed } from "./speed.js";
import { QUOTA_LABEL, accuracy, defaultStateBytes } from "./accuracy.js";
import { rateLimitScale } from "./scale.js";
import { limitContention } from "./contention.js";
import { asyncBench } from "./async.js";
import { newConflictPct, statsContention } from "./statsContention.js";
import { maintenanceBench } from "./maintenance.js";
import { auditIntegrity } from "./auditIntegrity.js";
import { ours, peer } from "./limiters.js";
import { checkPromises } from "./promises.js";
import { renderMarkdown, type Results } from "./report.js";
import { MINUTE } from "convex-guard";
import { syncPerformancePage } from "../scripts/readme-sync.js";
import { bundleSize } from "./bundleSize.js";

const SECTIONS = [
  "cost",
  "speed",
  "accuracy",
  "scale",
  "contention",
  "maintenance",
  "integrity",
  "size",
] as const;
type Section = (typeof SECTIONS)[number];

export function parseArgs(args: string[]) {
  const quick = args.includes("--quick");
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    const eq = args.find((a) => a.startsWith(flag + "="));
    return eq ? eq.slice(flag.length + 1) : i >= 0 ? args[i + 1] : undefined;
  };
  const int = (flag: string, dflt: number) => {
    const v = value(flag);
    if (v === undefined) return dflt;
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1)
      throw new Error(`${flag} must be a positive integer, got ${v}`);
    return x;
  };
  const only = value("--only");
  const sections = (only ? only.split(",") : [...SECTIONS]) as Section[];
  for (const s of sections)
    if (!SECTIONS.includes(s))
      throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(", ")}`);
  return {
    quick,
    sections,
    // convex-test sorts every matching document on each sweep query, so the sweep is quadratic in idle keys:
    // 30,000 takes ~12 s on 2 cores, 100,000 about 4.5 minutes (pass --keys 100000 to measure it).
    keys: int("--keys", quick ? 5_000 : 30_000),
    realKeys: int("--real-keys", quick ? 200 : 500),
    samples: quick ? 3 : 8,
    // The median of 15 round means moved by up to 0.06 between runs; of 5, by up to 0.12.
    speedRounds: quick ? 3 : 15,
    // Per round and implementation: long enough that pauses (GC) average out.
    speedCalls: quick ? 100 : 500,
    speedWarmUp: quick ? 200 : 1_000,
    periods: quick ? 3 : 10,
    auditSizes: quick ? [1_000, 10_000] : [1_000, 10_000, 20_000],
    contentionN: 10,
    // One key at 100 verifications/s: 2 minutes covers two lastUsedAt writes.
    hotSeconds: quick ? 10 : 120,
    contentionRounds: quick ? 3 : 20,
    steadyCalls: quick ? 400 : 1_000,
    // The tamper fuzzer with a fixed seed (a vitest child process), and simulated seconds of audit traffic.
    fuzzRuns: quick ? 200 : 500,
    windowSeconds: quick ? 60 : 300,
  };
}

const worst = (
  rows: LimitCostRow[],
  shards: number,
  call: LimitCall,
  k: "documentsRead" | "documentsWritten" | "databaseQueries",
) => {
  const xs = rows
    .filter((r) => r.shards === shards && r.call === call)
    .map((r) => (r.ours ? r.ours.max[k] : null));
  return xs.length === 0 || xs.some((x) => x === null) ? null : Math.max(...(xs as number[]));
};

export async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  const started = performance.now();
  const log = (s: string) => process.stderr.write(s + "\n");
  const t0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z: a minute boundary, so fixed windows start on it.
  installClock(t0);
  const r: Results = {
    meta: {
      date: new Date(performance.timeOrigin).toISOString(),
      node: process.versions.node,
      platform: `${process.platform}/${process.arch}`,
      quick: o.quick,
      seconds: 0,
      args: argv,
      notes: [],
    },
    promises: [],
  };
  let failed = false;
  const section = async (name: string, fn: () => Promise<void>) => {
    log(`${name}...`);
    const start = performance.now();
    try {
      await fn();
      log(`${name}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
    } catch (e) {
      failed = true;
      log(`${name} FAILED: ${(e as Error).stack ?? e}`);
      r.meta.notes.push(`Section “${name}” failed: ${(e as Error).message}`);
    }
  };
  try {
    if (o.sections.includes("cost")) {
      await section("cost: rate limits", async () => {
        r.limitCosts = await limitCosts(o.samples, log);
      });
      await section("cost: confirmations", async () => {
        r.guardCosts = await confirmationsBench(o.samples);
      });
      await section("cost: api keys", async () => {
        r.guardCosts = [...(r.guardCosts ?? []), ...(await apiKeyCosts(o.samples))];
        r.apiKeysHot = await apiKeysHot(o.hotSeconds, log);
      });
      await section("cost: access control", async () => {
        r.guardCosts = [...(r.guardCosts ?? []), ...(await accessCosts(o.samples))];
      });
    }
    if (
      o.sections.includes("cost") ||
      o.sections.includes("scale") ||
      o.sections.includes("contention")
    ) {
      await section("audit log (cost, scale, contention)", async () => {
        r.audit = await auditBench(
          {
            baseEvents: 1_000,
            sizes: o.auditSizes,
            samples: o.samples,
            contentionN: o.contentionN,
            contentionRounds: o.contentionRounds,
          },
          log,
        );
      });
    }
    if (o.sections.includes("speed")) {
      await section("speed", async () => {
        r.speed = await speed(o.speedRounds, o.speedCalls, o.speedWarmUp, log);
      });
    }
    if (o.sections.includes("accuracy")) {
      await section("accuracy", async () => {
        r.accuracy = await accuracy(t0 + 10 * MINUTE, o.periods, log);
      });
    }
    if (o.sections.includes("scale")) {
      await section("scale", async () => {
        r.scale = await rateLimitScale(o.realKeys, o.keys, log);
      });
      if (o.keys < 100_000) {
        r.meta.notes.push(
          `Idle-key sweep measured at ${o.keys.toLocaleString("en-US")} keys, not 100,000: convex-test sorts every matching document ` +
            `on each sweep query, so the sweep's run time in convex-test grows with the square of the key count. ` +
            `\`npm run bench -- --only scale --keys 100000\` measures it: on 2 busy cores it took 4.4 minutes of sweeping ` +
            `(391 passes of ≤ 256 documents) and left 0 of 100,000 documents.`,
        );
      }
    }
    if (o.sections.includes("contention")) {
      await section("contention", async () => {
        r.contention = [
          ...(await limitContention(o.contentionN, o.contentionRounds, { ours, peer }, log)),
          ...(await statsContention(o.contentionN, o.contentionRounds, t0, log)),
          ...(r.audit?.logContention ?? []),
        ];
        r.async = await asyncBench(o.contentionRounds, log);
      });
    }
    if (o.sections.includes("maintenance")) {
      await section("maintenance", async () => {
        r.maintenance = await maintenanceBench(
          { steadyCalls: o.steadyCalls, n: o.contentionN, rounds: o.contentionRounds },
          log,
        );
      });
    }
    if (o.sections.includes("size")) {
      await section("bundle size", async () => {
        r.bundle = await bundleSize();
      });
    }
    if (o.sections.includes("integrity")) {
      await section("audit integrity", async () => {
        r.auditIntegrity = await auditIntegrity(
          { fuzzRuns: o.fuzzRuns, windowSeconds: o.windowSeconds },
          log,
        );
      });
    }
  } finally {
    uninstallClock();
  }

  // Measured values for the promises.
  const m: Record<string, number | null> = {};
  if (r.limitCosts) {
    const L = r.limitCosts;
    m["limit.allowed.reads"] = worst(L, 1, "limit allowed", "documentsRead");
    m["limit.allowed.writes"] = worst(L, 1, "limit allowed", "documentsWritten");
    m["limit.denied.reads"] = worst(L, 1, "limit denied", "documentsRead");
    m["limit.denied.writes"] = worst(L, 1, "limit denied", "documentsWritten");
    m["limit.first.reads"] = worst(L, 1, "limit (first call, new key)", "documentsRead");
    m["limit.first.writes"] = worst(L, 1, "limit (first call, new key)", "documentsWritten");
    m["check.writes"] = worst(L, 1, "check", "documentsWritten");
    m["check.reads"] = worst(L, 1, "check", "documentsRead");
    m["limitAll2.reads"] = worst(L, 1, "limitAll of 2", "documentsRead");
    m["limitAll2.writes"] = worst(L, 1, "limitAll of 2", "documentsWritten");
    const ranges = [
      worst(L, 1, "limit allowed", "databaseQueries"),
      worst(L, 1, "limit denied", "databaseQueries"),
      worst(L, 10, "limit allowed", "databaseQueries"),
      worst(L, 10, "limit denied", "databaseQueries"),
    ];
    m["limit.indexRanges"] = ranges.some((x) => x === null)
      ? null
      : Math.max(...(ranges as number[]));
    m["sharded.allowed.reads"] = worst(L, 10, "limit allowed", "documentsRead");
    m["sharded.allowed.writes"] = worst(L, 10, "limit allowed", "documentsWritten");
    m["sharded.denied.reads"] = worst(L, 10, "limit denied", "documentsRead");
    m["sharded.denied.writes"] = worst(L, 10, "limit denied", "documentsWritten");
    m["sharded.check.writes"] = worst(L, 10, "check", "documentsWritten");
  }
  if (r.contention) m["limit.stats.newConflictPct"] = newConflictPct(r.contention);
  if (r.audit) {
    const A = r.audit;
    m["audit.log.reads"] = Math.max(
      ...A.costs.filter((c) => c.call.startsWith("audit.log")).map((c) => c.ours.max.documentsRead),
    );
    m["audit.log.conflictPct"] = A.logContention.length
      ? Math.max(...A.logContention.map((c) => c.conflictPct))
      : null;
    const plain = A.listScale.filter((x) => x.filter !== "target");
    const target = A.listScale.filter((x) => x.filter === "target");
    m["audit.list.reads"] = plain.length ? Math.max(...plain.map((x) => x.documentsRead)) : null;
    m["audit.list.target.reads"] = target.length
      ? Math.max(...target.map((x) => x.documentsRead))
      : null;
    const sizes = [...new Set(A.listScale.map((x) => x.events))].sort((a, b) => a - b);
    const at = (s: number) =>
      A.listScale.filter((x) => x.events === s).reduce((acc, x) => acc + x.documentsRead, 0);
    const [smallest] = sizes;
    const largest = sizes.at(-1);
    m["audit.list.growth"] =
      sizes.length >= 2 && smallest !== undefined && largest !== undefined
        ? Math.max(0, at(largest) - at(smallest))
        : null;
    m["audit.verify.readsPer1000"] = A.verifyOk ? A.verifyPer1000.documentsRead : null;
  }
  if (r.guardCosts) {
    const G = r.guardCosts;
    const max = (prefix: string, k: "documentsRead" | "documentsWritten") => {
      const xs = G.filter((c) => c.call.startsWith(prefix)).map((c) => c.ours.max[k]);
      return xs.length ? Math.max(...xs) : null;
    };
    m["codes.issue.reads"] = max("confirmations.issue", "documentsRead");
    m["codes.issue.writes"] = max("confirmations.issue", "documentsWritten");
    m["codes.consume.reads"] = max("confirmations.consume", "documentsRead");
    m["codes.consume.writes"] = max("confirmations.consume", "documentsWritten");
    m["apiKeys.verify.reads"] = max("apiKeys.verify, valid key (", "documentsRead");
    m["apiKeys.verify.query.writes"] = max("apiKeys.verify, valid key (query)", "documentsWritten");
    m["apiKeys.verify.limited.reads"] = max(
      "apiKeys.verify, valid key with per-key limit",
      "documentsRead",
    );
    m["apiKeys.verify.wrong.writes"] = max("apiKeys.verify, wrong secret", "documentsWritten");
    m["apiKeys.verify.malformed.reads"] = max("apiKeys.verify, malformed", "documentsRead");
    m["access.actor.reads"] = max("access.actor", "documentsRead");
    m["access.can.roleOf.reads"] = max("access.can, roleOf", "documentsRead");
    m["access.can.grants.reads"] = max("access.can, stored grants", "documentsRead");
    m["access.grant.writes"] = max("access.grant", "documentsWritten");
    m["access.revoke.writes"] = max("access.revoke", "documentsWritten");
  }
  if (r.apiKeysHot) {
    const plain = r.apiKeysHot.find((h) => h.scenario.includes("no per-key limit"));
    m["apiKeys.hot.writesPerMinute"] = plain ? plain.maxWritesPerDocPerMinute : null;
    m["apiKeys.hot.conflictPct"] = plain ? plain.conflictPct : null;
  }
  if (r.accuracy) {
    const exact = r.accuracy.map((a) =>
      a.results.find((c) => c.label === "ours: sliding window (exact)"),
    );
    if (exact.every((c) => c !== undefined)) {
      m["exact.overPct"] = Math.max(...exact.map((c) => c!.overPct));
      m["exact.burst"] = Math.max(...exact.map((c) => c!.burst));
    }
    const def = r.accuracy.map((a) =>
      a.results.find((c) => c.label === "ours: sliding window (default)"),
    );
    if (def.every((c) => c !== undefined)) {
      m["default.overPct"] = Math.max(...def.map((c) => c!.overPct));
      m["default.underPct"] = Math.max(...def.map((c) => c!.underPct));
      m["default.burst"] = Math.max(...def.map((c) => c!.burst));
      m["default.retryExcess"] = Math.max(...def.map((c) => c!.retryExcess));
    }
    m["default.stateBytes"] = defaultStateBytes();
    const quota = r.accuracy.map((a) => a.results.find((c) => c.label === QUOTA_LABEL));
    if (quota.every((c) => c !== undefined)) {
      m["quota.overPct"] = Math.max(...quota.map((c) => c!.overPct));
    }
  }
  if (r.scale) m["sweep.docsLeft"] = r.scale.ours.afterSweep.docs;
  if (r.async) {
    const A = r.async;
    const c100 = A.contention.find(
      (c) => c.impl === "ours" && c.scenario.startsWith("limit, one key, asynchronous, 100"),
    );
    m["async.conflictPct100"] = c100 ? c100.conflictPct : null;
    const other = (prefix: string) =>
      A.contention.find((c) => c.impl === "ours" && c.scenario.startsWith(prefix) && c.n === 100);
    m["async.limitAll.conflictPct100"] = other("limitAll")?.conflictPct ?? null;
    m["async.apiKey.conflictPct100"] = other("API key")?.conflictPct ?? null;
    const over = (impl: string) => A.overload.find((o) => o.overload === 10 && o.impl === impl);
    const [ours10, peer10] = [over("ours"), over("peer")];
    m["async.over10.vsPeer"] =
      ours10 && peer10 && peer10.overPct > 0 ? ours10.overPct / peer10.overPct : null;
    m["async.lowest10"] = ours10 ? -ours10.lowestBalance : null;
    const unfolded100 = A.costs.find(
      (c) => c.impl === "ours" && c.call === "limit, 100 calls unfolded",
    );
    m["async.reads100Unfolded"] = unfolded100 ? unfolded100.documentsRead : null;
  }
  if (r.maintenance) {
    const M = r.maintenance;
    m["maintenance.idlePerDay"] = Math.max(M.unusedPerDay, M.idlePerDay);
    m["maintenance.ticksPer1000"] = M.steady.ticksPer1000;
    const pendingRow = M.wake.find((w) => w.scenario === "audit.log, tick pending");
    m["maintenance.log.retriedWhenScheduled"] = pendingRow
      ? pendingRow.retriedPerRound + (pendingRow.retriedByTick ?? 0)
      : null;
    m["maintenance.log.stateWrites"] = pendingRow ? pendingRow.stateWritesPerRound : null;
  }
  if (r.auditIntegrity) {
    m["audit.fuzz.other"] = r.auditIntegrity.fuzz.other;
    m["audit.sealWindow.maxMs"] = r.auditIntegrity.window.maxMs;
  }
  if (r.bundle) {
    m["react.bundleBytes"] = r.bundle.oursBytes;
    m["client.bundleBytes"] = r.bundle.clientBytes;
  }
  // Only promises whose section ran are checked (a partial run with --only checks what it measured).
  const ran = new Set(Object.keys(m));
  r.promises = checkPromises(m).filter(
    (p) => o.sections.length === SECTIONS.length || ran.has(p.id),
  );

  r.meta.seconds = Math.round((performance.now() - started) / 1000);
  const md = renderMarkdown(r);
  const dir = fileURLToPath(new URL(".", import.meta.url));
  // Only a full run replaces the results docs/performance.md includes; --quick and --only write beside them.
  const full = !o.quick && o.sections.length === SECTIONS.length;
  const suffix = full ? "" : ".quick";
  writeFileSync(`${dir}results${suffix}.json`, JSON.stringify(r, null, 2) + "\n");
  writeFileSync(`${dir}RESULTS${suffix}.md`, md + "\n");
  log(`wrote bench/results${suffix}.json and bench/RESULTS${suffix}.md`);
  if (full && syncPerformancePage()) log("updated docs/performance.md");
  process.stdout.write(md + "\n");
  const broken = r.promises.filter((p) => !p.ok);
  for (const p of broken)
    log(`PROMISE BROKEN: ${p.text}: limit ${p.max}, measured ${p.measured ?? "nothing"}`);
  log(
    `bench: ${r.meta.seconds} s, ${r.promises.length - broken.length}/${r.promises.length} promises kept${failed ? ", a section FAILED" : ""}`,
  );
  return failed || broken.length > 0 ? 1 : 0;
}
