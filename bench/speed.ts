/**
 * Section 2: speed. Calls per second of `limit` through convex-test (each call
 * a whole host mutation), ours and the peer's, in the same process,
 * alternating call by call so that warm-up and machine noise hit both alike;
 * several rounds, median round. The
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
  let ta = 0;
  let tb = 0;
  const one = async (l: Limiter, i: number) => {
    const start = performance.now();
    await t.mutation((ctx: any) => l.limit(ctx, "l", { key: `user-${i % KEYS}` }));
    return performance.now() - start;
  };
  for (let i = 0; i < calls; i++) {
    if (b && i % 2 === 1) tb += await one(b, i);
    ta += await one(a, i);
    if (b && i % 2 === 0) tb += await one(b, i);
  }
  return { a: (calls * 1000) / ta, b: b ? (calls * 1000) / tb : null };
}

export async function speed(
  rounds: number,
  calls: number,
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
    // One untimed warm-up round (module and JIT warm-up).
    try {
      await round1(o, p, t, Math.min(calls, 200));
    } catch (e) {
      log(`    ours failed: ${(e as Error).message}`);
      o = null;
    }
    for (let r = 0; r < rounds; r++) {
      const x = o ? await round1(p, o, t, calls) : await round1(p, null, t, calls);
      peerRates.push(x.a);
      if (x.b !== null) oursRates.push(x.b);
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
