/**
 * Asynchronous limits (`applyUpdates: "asynchronously"`) against the peer's
 * asynchronous mode and against sharding, in the same run:
 *
 * - contention: N calls on one hot key from the same snapshot, through the
 *   read/write-set model of ./contention.ts, at 10 and 100 concurrent calls;
 * - cost: documents one call reads and writes (convex-test metrics), and the
 *   fold's cost per folded call;
 * - over-admission under 2× and 10× overload, in a model of concurrent
 *   callers (`overload` below): convex-test runs one mutation at a time, so
 *   calls in flight at once and a lagging fold are simulated with each
 *   implementation's own decision rule (ours: `decideOnApplied`; the peer's: its
 *   exported `calculateRateLimit` on the applied state, as its `limit` does).
 */
import { calculateRateLimit as peerCalculate } from "@convex-dev/rate-limiter";
import { MINUTE, SECOND } from "convex-guard";
import { decideOnApplied, foldRows } from "../src/component/rateLimits/async.js";
import { normalizeConfig, shardConfig } from "../src/component/rateLimits/config.js";
import type { RateLimitState } from "../src/component/rateLimits/model.js";
import { contentionOf, type ContentionRow } from "./contention.js";
import { components, inComponent, newInstance } from "./harness.js";
import { ApiKeys, RateLimiter } from "convex-guard";
import { RateLimiter as PeerRateLimiter } from "@convex-dev/rate-limiter";

export type OverloadRow = {
  overload: number;
  impl: "ours" | "peer";
  /** Most admitted in any one-period window / what an exact limiter admits in one (capacity + rate x period). */
  peakRatio: number;
  /** Admitted beyond an exact limiter's capacity + rate x duration, as % of that. */
  overPct: number;
  /** Lowest balance once everything folded (negative: debt). */
  lowestBalance: number;
};

export type AsyncCost = {
  impl: "ours" | "peer";
  call: string;
  documentsRead: number;
  documentsWritten: number;
};

export type AsyncBench = {
  contention: ContentionRow[];
  overload: OverloadRow[];
  costs: AsyncCost[];
  /** Documents the fold reads and writes per folded call (100 calls on one key, one pass). */
  foldPerCall: { documentsRead: number; documentsWritten: number };
};

const HOT = { kind: "token bucket", rate: 1e6, period: MINUTE } as const;

/** 10 and 100 concurrent calls on one key: ours async, the peer's async, sharded. */
async function contention(rounds: number, log: (s: string) => void): Promise<ContentionRow[]> {
  const rows: ContentionRow[] = [];
  const setups = [
    { label: "asynchronous", config: { ...HOT, applyUpdates: "asynchronously" as const } },
    { label: "10 shards", config: { ...HOT, shards: 10 } },
  ];
  for (const n of [10, 100]) {
    for (const { label, config } of setups) {
      for (const impl of ["ours", "peer"] as const) {
        const scenario = `limit, one key, ${label}, ${n} concurrent`;
        log(`  async: ${scenario}, ${impl}`);
        const t = newInstance();
        const l: any =
          impl === "ours"
            ? new RateLimiter(components.guard, { l: config })
            : new PeerRateLimiter(components.rateLimiter, { l: config as any });
        // Warm: state and loop (or worker) exist, as on a busy key.
        for (let i = 0; i < 20; i++)
          await t.mutation((ctx: any) => l.limit(ctx, "l", { key: "hot" }));
        const r = n === 100 ? Math.max(1, Math.floor(rounds / 5)) : rounds;
        rows.push(
          await contentionOf(scenario, impl, t, n, r, (ctx) => l.limit(ctx, "l", { key: "hot" })),
        );
      }
    }
    // The other callers of an asynchronous limit (ours only: the peer has neither).
    const r = n === 100 ? Math.max(1, Math.floor(rounds / 5)) : rounds;
    const config = { ...HOT, applyUpdates: "asynchronously" as const };
    {
      const scenario = `limitAll, one key, asynchronous, ${n} concurrent`;
      log(`  async: ${scenario}, ours`);
      const t = newInstance();
      const l = new RateLimiter(components.guard, { l: config });
      const call = (ctx: any) => l.limitAll(ctx, [{ name: "l", key: "hot" }]);
      for (let i = 0; i < 20; i++) await t.mutation((ctx: any) => call(ctx));
      rows.push(await contentionOf(scenario, "ours", t, n, r, call));
    }
    {
      const scenario = `API key's own limit, one key, asynchronous, ${n} concurrent`;
      log(`  async: ${scenario}, ours`);
      const t = newInstance();
      const keys = new ApiKeys(components.guard, {
        prefix: "sk_bench",
        scopes: ["read"],
        limit: config,
      });
      const owner = { type: "team", id: "bench" };
      const { key } = await t.mutation((ctx: any) =>
        keys.create(ctx, { name: "hot", owner, scopes: ["read"] }),
      );
      const call = (ctx: any) => keys.verify(ctx, { key });
      for (let i = 0; i < 20; i++) await t.mutation((ctx: any) => call(ctx));
      rows.push(await contentionOf(scenario, "ours", t, n, r, call));
    }
  }
  return rows;
}

async function metricsOf(t: any, fn: (ctx: any) => Promise<unknown>) {
  return t.mutation(async (ctx: any) => {
    const before = await ctx.meta.getTransactionMetrics();
    await fn(ctx);
    const after = await ctx.meta.getTransactionMetrics();
    return {
      documentsRead: after.documentsRead.used - before.documentsRead.used,
      documentsWritten: after.documentsWritten.used - before.documentsWritten.used,
    };
  });
}

/** One call's documents, with `pendingRows` calls unfolded before it, and the fold's per call. */
async function costs(): Promise<Pick<AsyncBench, "costs" | "foldPerCall">> {
  const config = { ...HOT, applyUpdates: "asynchronously" as const };
  const out: AsyncCost[] = [];
  for (const impl of ["ours", "peer"] as const) {
    const t: any = newInstance();
    const l: any =
      impl === "ours"
        ? new RateLimiter(components.guard, { l: config })
        : new PeerRateLimiter(components.rateLimiter, { l: config as any });
    await t.mutation((ctx: any) => l.limit(ctx, "l", { key: "hot" }));
    for (const unfolded of [1, 10, 100]) {
      while ((await pendingCount(t, impl)) < unfolded)
        await t.mutation((ctx: any) => l.limit(ctx, "l", { key: "hot" }));
      const m = await metricsOf(t, (ctx) => l.limit(ctx, "l", { key: "hot" }));
      out.push({ impl, call: `limit, ${unfolded} calls unfolded`, ...m });
    }
  }
  // Calls that overlapped the newest decision (committed after its snapshot):
  // convex-test runs calls one at a time, so they are appended directly.
  for (const inFlight of [10, 100]) {
    const t: any = newInstance();
    const l = new RateLimiter(components.guard, { l: config });
    await t.mutation((ctx: any) => l.limit(ctx, "l", { key: "hot" }));
    await inComponent(t, "guard", async (ctx) => {
      for (let i = 0; i < inFlight; i++) {
        // Decided on a snapshot before the newest link: read as calls in flight after it.
        const row = { name: "l", key: "hot", count: 1, ts: Date.now(), config, upTo: 0n };
        await ctx.db.insert("rateLimitPending", {
          ...row,
          applied: null,
          at: ctx.db.vars.commitTs,
        });
      }
    });
    const m = await metricsOf(t, (ctx) => l.limit(ctx, "l", { key: "hot" }));
    out.push({ impl: "ours", call: `limit, ${inFlight} calls in flight at once`, ...m });
  }
  // The fold: 100 calls on one key, folded in one pass.
  const t: any = newInstance();
  const l = new RateLimiter(components.guard, { l: config });
  for (let i = 0; i < 100; i++) await t.mutation((ctx: any) => l.limit(ctx, "l", { key: "hot" }));
  const fold = await metricsOf(t, (ctx) =>
    ctx.runMutation(components.guard.maintenance.runNow, {}),
  );
  const per = (x: number) => Math.round((x / 100) * 100) / 100;
  return {
    costs: out,
    foldPerCall: {
      documentsRead: per(fold.documentsRead),
      documentsWritten: per(fold.documentsWritten),
    },
  };
}

async function pendingCount(t: any, impl: "ours" | "peer"): Promise<number> {
  if (impl === "ours")
    return inComponent(
      t,
      "guard",
      async (ctx) => (await ctx.db.query("rateLimitPending").collect()).length,
    );
  return inComponent(
    t,
    "rateLimiter",
    async (ctx) => (await ctx.db.query("pendingUpdates").collect()).length,
  );
}

/**
 * Over-admission model: calls arrive evenly at `overload` x the rate for
 * `duration`; each decides on the snapshot at its start and commits
 * `inFlight` ms later (so calls in flight at once do not see each other);
 * the fold (ours) or worker (the peer's) applies every committed call every
 * `foldEvery` ms. Both use the same timing; only the decision rule differs.
 */
export function overload(
  impl: "ours" | "peer",
  times: number,
  opts = { rate: 100, capacity: 100, duration: 10 * SECOND, inFlight: 20, foldEvery: SECOND },
): OverloadRow {
  const config = {
    kind: "token bucket" as const,
    rate: opts.rate,
    period: SECOND,
    capacity: opts.capacity,
    applyUpdates: "asynchronously" as const,
  };
  const c = normalizeConfig(config, "l");
  const s = shardConfig(c);
  const seed = "l\u0000hot";
  type Version = {
    at: number;
    state: RateLimitState | null;
    pending: { count: number; ts: number }[];
  };
  const versions: Version[] = [{ at: 0, state: null, pending: [] }];
  const at = (t: number) => {
    let i = versions.length - 1;
    while (versions[i]!.at > t) i--;
    return versions[i]!;
  };
  const gap = SECOND / (opts.rate * times);
  const admitted: number[] = [];
  const all: { count: number; ts: number }[] = [];
  let nextFold = opts.foldEvery;
  const start = 1_000_000;
  for (let i = 0; ; i++) {
    const arrival = i * gap;
    if (arrival >= opts.duration) break;
    const commit = arrival + opts.inFlight;
    while (nextFold <= commit) {
      const v = versions[versions.length - 1]!;
      versions.push({ at: nextFold, state: foldRows(s, v.state, seed, v.pending), pending: [] });
      nextFold += opts.foldEvery;
    }
    const seen = at(arrival);
    const now = start + arrival;
    let ok: boolean;
    if (impl === "ours") {
      const applied = foldRows(s, seen.state, seed, seen.pending);
      ok = decideOnApplied(c, seen.state, applied, seed, now, 1, false).ok;
    } else {
      const applied = seen.state && { value: seen.state.value, ts: seen.state.ts };
      ok = peerCalculate(applied, config, now, 1).value >= 0;
    }
    if (!ok) continue;
    admitted.push(arrival);
    const row = { count: 1, ts: now };
    all.push(row);
    const v = versions[versions.length - 1]!;
    versions.push({ at: commit, state: v.state, pending: [...v.pending, row] });
  }
  const exactPeriod = opts.capacity + opts.rate;
  let peak = 0;
  for (let i = 0, j = 0; i < admitted.length; i++) {
    while (admitted[i]! - admitted[j]! >= SECOND) j++;
    peak = Math.max(peak, i - j + 1);
  }
  const exactTotal = opts.capacity + (opts.rate * opts.duration) / SECOND;
  let lowest = Infinity;
  for (let k = 1; k <= all.length; k++) {
    const st = foldRows(s, null, seed, all.slice(0, k));
    lowest = Math.min(lowest, st!.value);
  }
  return {
    overload: times,
    impl,
    peakRatio: Math.round((peak / exactPeriod) * 100) / 100,
    overPct: Math.round(Math.max(0, (admitted.length - exactTotal) / exactTotal) * 1000) / 10,
    lowestBalance: Math.round(lowest * 10) / 10,
  };
}

export async function asyncBench(rounds: number, log: (s: string) => void): Promise<AsyncBench> {
  const rows = await contention(rounds, log);
  log("  async: cost");
  const c = await costs();
  log("  async: overload model");
  const over: OverloadRow[] = [];
  for (const times of [2, 10])
    for (const impl of ["ours", "peer"] as const) over.push(overload(impl, times));
  return { contention: rows, overload: over, ...c };
}
