/**
 * Section 2: speed. Calls per second of `limit` through convex-test (each call
 * a whole host mutation), ours and the peer's, in the same process,
 * alternating call by call so that warm-up and machine noise hit both alike;
 * several rounds, median round. The
 * absolute numbers measure the embedded runtime on this machine; the ratio is
 * what compares the two implementations. A round's calls/s is its mean call
 * time, so a pause from the rest of a busy machine moves it; `medianCallRatio`
 * compares the two implementations' median call times, which such pauses
 * leave alone (it moved by 0.01 across runs where the mean ratio moved by 0.5).
 * Both components are served by the harness with their validators serialized
 * once, as a deployment does at push time (see `exportOnce` in harness.ts).
 *
 * Rounds start at steady state: a deployment's isolate serves its calls warm,
 * but this process starts cold, and the ratio rises over the first ~1,000
 * calls of each while V8 optimizes both code paths (measured 2026-12-07 in
 * 100-call blocks after 200 warm-up calls, token bucket: 0.89-0.95 over the
 * first 800 calls, 0.97-1.05 from the 1,000th on). So `warmUp` untimed calls
 * of each (alternating) come first, 1,000 in a full run.
 */
import { MINUTE } from "convex-guard";
import { newInstance } from "./harness.js";
import { ours, peer, type Config, type Limiter } from "./limiters.js";
import { median, round } from "./stats.js";

export type SpeedRow = {
  workload: string;
  rounds: number;
  callsPerRound: number;
  oursPerSec: number | null;
  peerPerSec: number;
  ratio: number | null;
  /** Peer's median call time ÷ ours (median over the timed rounds): above 1, ours is faster. */
  medianCallRatio: number | null;
  /** Untimed calls of each implementation before the first round. */
  warmUpCalls: number;
};

const KEYS = 20;

/**
 * One round: `calls` calls of each implementation, alternating call by call
 * (and who goes first), timing each call alone, so load changes on the
 * machine hit both alike. Returns calls per second for each.
 */
async function round1(
  a: Limiter,
  b: Limiter | null,
  t: ReturnType<typeof newInstance>,
  calls: number,
) {
  const ta: number[] = [];
  const tb: number[] = [];
  const one = async (l: Limiter, i: number, times: number[]) => {
    const start = performance.now();
    await t.mutation((ctx: any) => l.limit(ctx, "l", { key: `user-${i % KEYS}` }));
    times.push(performance.now() - start);
  };
  for (let i = 0; i < calls; i++) {
    if (b && i % 2 === 1) await one(b, i, tb);
    await one(a, i, ta);
    if (b && i % 2 === 0) await one(b, i, tb);
  }
  const perSec = (times: number[]) => (times.length * 1000) / times.reduce((x, y) => x + y, 0);
  return {
    a: perSec(ta),
    b: b ? perSec(tb) : null,
    medianAOverB: b ? median(ta) / median(tb) : null,
  };
}

export async function speed(
  rounds: number,
  calls: number,
  warmUp: number,
  log: (s: string) => void,
): Promise<SpeedRow[]> {
  const workloads: { workload: string; config: Config }[] = [
    {
      workload: "limit, token bucket, 20 keys",
      config: { kind: "token bucket", rate: 1e6, period: MINUTE },
    },
    {
      workload: "limit, fixed window, 20 keys",
      config: { kind: "fixed window", rate: 1e6, period: MINUTE },
    },
    {
      workload: "limit, token bucket, 10 shards, 20 keys",
      config: { kind: "token bucket", rate: 1e6, period: MINUTE, shards: 10 },
    },
  ];
  const rows: SpeedRow[] = [];
  for (const w of workloads) {
    log(`  speed: ${w.workload}`);
    const t = newInstance();
    const p = peer({ l: w.config });
    let o: Limiter | null = ours({ l: w.config });
    const oursRates: number[] = [];
    const peerRates: number[] = [];
    const medianRatios: number[] = [];
    // Untimed: until both run optimized code (see the top of this file).
    try {
      await round1(o, p, t, warmUp);
    } catch (e) {
      log(`    ours failed: ${(e as Error).message}`);
      o = null;
    }
    for (let r = 0; r < rounds; r++) {
      const x = o ? await round1(p, o, t, calls) : await round1(p, null, t, calls);
      peerRates.push(x.a);
      if (x.b !== null) oursRates.push(x.b);
      if (x.medianAOverB !== null) medianRatios.push(x.medianAOverB);
    }
    const oursPerSec = o ? round(median(oursRates), 0) : null;
    const peerPerSec = round(median(peerRates), 0);
    rows.push({
      workload: w.workload,
      rounds,
      callsPerRound: calls,
      oursPerSec,
      peerPerSec,
      ratio: oursPerSec === null ? null : round(oursPerSec / peerPerSec, 2),
      medianCallRatio: medianRatios.length === 0 ? null : round(median(medianRatios), 2),
      warmUpCalls: warmUp,
    });
  }
  return rows;
}
