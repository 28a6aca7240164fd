/**
 * Section 2: speed. Calls per second of `limit` through convex-test (each call
 * a whole host mutation), ours and the peer's, in the same process, in
 * alternating rounds so that warm-up and machine noise hit both alike. The
 * absolute numbers measure the embedded runtime on this machine; the ratio is
 * what compares the two implementations.
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
};

const KEYS = 20;

async function round1(limiter: Limiter, t: ReturnType<typeof newInstance>, calls: number, name: string) {
  const start = performance.now();
  for (let i = 0; i < calls; i++) {
    await t.mutation((ctx: any) => limiter.limit(ctx, name, { key: `user-${i % KEYS}` }));
  }
  return (calls * 1000) / (performance.now() - start);
}

export async function speed(rounds: number, calls: number, log: (s: string) => void): Promise<SpeedRow[]> {
  const workloads: { workload: string; config: Config }[] = [
    { workload: "limit, token bucket, 20 keys", config: { kind: "token bucket", rate: 1e6, period: MINUTE } },
    { workload: "limit, fixed window, 20 keys", config: { kind: "fixed window", rate: 1e6, period: MINUTE } },
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
    // One untimed warm-up round each (module and JIT warm-up).
    await round1(p, t, Math.min(calls, 50), "l");
    try {
      await round1(o, t, Math.min(calls, 50), "l");
    } catch (e) {
      log(`    ours failed: ${(e as Error).message}`);
      o = null;
    }
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first, so drift within a round favours neither.
      if (r % 2 === 1) peerRates.push(await round1(p, t, calls, "l"));
      if (o) oursRates.push(await round1(o, t, calls, "l"));
      if (r % 2 === 0) peerRates.push(await round1(p, t, calls, "l"));
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
    });
  }
  return rows;
}
