/**
 * Section 5: contention model. convex-test runs mutations one at a time, so
 * it cannot show optimistic-concurrency retries directly. We model them: N
 * calls are each run from the SAME snapshot (each in a host mutation that is
 * rolled back after its read and write sets are recorded at the syscall
 * layer, see recorder.ts), exactly as N concurrent mutations would see the
 * database. Then, for every pair: do their write sets intersect, and did one
 * write a document (or into an index range) the other read — the condition
 * under which Convex retries the later commit. "Retried per round" commits
 * the N calls in order and counts those that conflict with an earlier commit.
 */
import { MINUTE } from "convex-guard";
import { newInstance, type T } from "./harness.js";
import { conflicts, installRecorder, record, writesIntersect, type AccessSet } from "./recorder.js";
import { pct } from "./stats.js";

export type ContentionRow = {
  scenario: string;
  impl: "ours" | "peer";
  n: number;
  rounds: number;
  pairs: number;
  writeIntersectPct: number;
  conflictPct: number;
  retriedPerRoundPct: number;
  readsPerCall: number;
  writesPerCall: number;
};

const ROLLBACK = "bench-rollback";

export async function concurrentSets(
  t: T,
  n: number,
  call: (ctx: any, i: number) => Promise<unknown>,
) {
  installRecorder();
  const sets: AccessSet[] = [];
  for (let i = 0; i < n; i++) {
    const r = await record(() =>
      t.mutation(async (ctx: any) => {
        await call(ctx, i);
        throw new Error(ROLLBACK);
      }),
    );
    if (!String((r.error as Error)?.message ?? r.error).includes(ROLLBACK)) {
      throw r.error ?? new Error("the call did not roll back");
    }
    sets.push(r.access);
  }
  return sets;
}

export async function contentionOf(
  scenario: string,
  impl: "ours" | "peer",
  t: T,
  n: number,
  rounds: number,
  call: (ctx: any, i: number) => Promise<unknown>,
): Promise<ContentionRow> {
  let pairs = 0;
  let ww = 0;
  let occ = 0;
  let retried = 0;
  let reads = 0;
  let writes = 0;
  for (let r = 0; r < rounds; r++) {
    const sets = await concurrentSets(t, n, (ctx, i) => call(ctx, r * n + i));
    for (const s of sets) {
      reads += s.reads.size;
      writes += s.writes.size;
    }
    for (const [i, a] of sets.entries()) {
      for (const b of sets.slice(i + 1)) {
        pairs++;
        if (writesIntersect(a, b)) ww++;
        if (conflicts(a, b) || conflicts(b, a)) occ++;
      }
    }
    const committed: AccessSet[] = [];
    for (const s of sets) {
      if (committed.some((c) => conflicts(c, s))) retried++;
      else committed.push(s);
    }
  }
  return {
    scenario,
    impl,
    n,
    rounds,
    pairs,
    writeIntersectPct: pct(ww, pairs, 1),
    conflictPct: pct(occ, pairs, 1),
    retriedPerRoundPct: pct(retried, n * rounds, 1),
    readsPerCall: Math.round((reads / (n * rounds)) * 100) / 100,
    writesPerCall: Math.round((writes / (n * rounds)) * 100) / 100,
  };
}

/** Rate-limit scenarios; audit.log is added by the caller once the AuditLog lands. */
export async function limitContention(
  n: number,
  rounds: number,
  limiters: {
    ours: typeof import("./limiters.js").ours;
    peer: typeof import("./limiters.js").peer;
  },
  log: (s: string) => void,
): Promise<ContentionRow[]> {
  const rows: ContentionRow[] = [];
  for (const shards of [1, 10]) {
    for (const impl of ["ours", "peer"] as const) {
      const scenario = `limit, one key, ${shards === 1 ? "unsharded" : `${shards} shards`} (token bucket)`;
      log(`  contention: ${scenario}, ${impl}`);
      const t = newInstance();
      const make = impl === "ours" ? limiters.ours : limiters.peer;
      try {
        const l = make({
          l: { kind: "token bucket", rate: 1e6, period: MINUTE, ...(shards > 1 ? { shards } : {}) },
        });
        // Warm: every shard exists, as on a busy key.
        for (let i = 0; i < 8 * shards; i++)
          await t.mutation((ctx: any) => l.limit(ctx, "l", { key: "hot" }));
        rows.push(
          await contentionOf(scenario, impl, t, n, rounds, (ctx) =>
            l.limit(ctx, "l", { key: "hot" }),
          ),
        );
      } catch (e) {
        log(`    ${impl} failed: ${(e as Error).message}`);
      }
    }
  }
  return rows;
}
