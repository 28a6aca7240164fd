/**
 * Section 1a: cost per rate-limit call, ours and the peer's, from convex-test's
 * transaction metrics around each call inside a host mutation (or query, for
 * `check`). Every number is a mean over several calls in a warm state; the
 * promises are checked against the max.
 */
import { HOUR, MINUTE } from "convex-guard";
import {
  inComponent,
  measure,
  measureQuery,
  newInstance,
  type Metrics,
  type T,
} from "./harness.js";
import { ours, peer, type Config, type Limiter } from "./limiters.js";
import { summarize, type MetricStats } from "./stats.js";

export type Algorithm =
  "sliding window" | "sliding window (exact)" | "fixed window" | "token bucket";
export const ALGORITHMS: Algorithm[] = [
  "sliding window",
  "sliding window (exact)",
  "fixed window",
  "token bucket",
];
export const PEER_ALGORITHMS: Algorithm[] = ["fixed window", "token bucket"];

export function configFor(a: Algorithm, rate: number, period: number, shards: number): Config {
  const base = { rate, period, ...(shards > 1 ? { shards } : {}) };
  switch (a) {
    case "sliding window":
      return { kind: "sliding window", ...base };
    case "sliding window (exact)":
      return { kind: "sliding window", precision: "exact", ...base };
    case "fixed window":
      return { kind: "fixed window", ...base };
    case "token bucket":
      return { kind: "token bucket", ...base };
  }
}

export type LimitCall =
  "limit (first call, new key)" | "limit allowed" | "limit denied" | "check" | "limitAll of 2";
export const LIMIT_CALLS: LimitCall[] = [
  "limit (first call, new key)",
  "limit allowed",
  "limit denied",
  "check",
  "limitAll of 2",
];

export type LimitCostRow = {
  algorithm: Algorithm;
  shards: number;
  call: LimitCall;
  ours: MetricStats | null;
  peer: MetricStats | null;
  note?: string;
};

async function costsFor(
  make: (l: Record<string, Config>) => Limiter,
  a: Algorithm,
  shards: number,
  samples: number,
) {
  const t = newInstance();
  const limiter = make({
    allow: configFor(a, 100, MINUTE, shards),
    allow2: configFor(a, 100, MINUTE, shards),
    deny: configFor(a, shards, HOUR, shards),
  });
  const out = new Map<LimitCall, Metrics[]>(LIMIT_CALLS.map((c) => [c, []]));
  // Warm: until the allowed calls have touched every shard, a call may insert
  // (and so also read the maintenance marker), which is a first call's cost,
  // not an allowed call's. Shards are drawn at random, so warm until each
  // shard has a document rather than for a fixed number of calls.
  const stored = (name: string) => storedShards(t, limiter, name, "k");
  for (
    let i = 0;
    i < 4 * shards + 4 || (await stored("allow")) < shards || (await stored("allow2")) < shards;
    i++
  ) {
    if (i > 100 * shards)
      throw new Error(`cost: ${shards} shards still not all written after ${i} calls`);
    await t.mutation((ctx: any) =>
      limiter.limitAll(ctx, [
        { name: "allow", key: "k" },
        { name: "allow2", key: "k" },
      ]),
    );
    await t.mutation((ctx: any) => limiter.limit(ctx, "deny", { key: "k" }));
  }
  for (let i = 0; i < samples; i++) {
    const first = await measure(t, (ctx) => limiter.limit(ctx, "allow", { key: `new-${i}` }));
    if (first.result.ok) out.get("limit (first call, new key)")!.push(first.cost);
    const allowed = await measure(t, (ctx) => limiter.limit(ctx, "allow", { key: "k" }));
    if (allowed.result.ok) out.get("limit allowed")!.push(allowed.cost);
    const check = await measureQuery(t, (ctx) => limiter.check(ctx, "allow", { key: "k" }));
    out.get("check")!.push(check.cost);
    const all = await measure(t, (ctx) =>
      limiter.limitAll(ctx, [
        { name: "allow", key: "k" },
        { name: "allow2", key: "k" },
      ]),
    );
    if (all.result.ok) out.get("limitAll of 2")!.push(all.cost);
  }
  for (let tries = 0; out.get("limit denied")!.length < samples && tries < 20 * samples; tries++) {
    const denied = await measure(t, (ctx) => limiter.limit(ctx, "deny", { key: "k" }));
    if (!denied.result.ok) out.get("limit denied")!.push(denied.cost);
  }
  return out;
}

/** Shard documents of (name, key) in the limiter's own `rateLimits` table (both implementations name it so). */
async function storedShards(t: T, limiter: Limiter, name: string, key: string): Promise<number> {
  return inComponent(t, limiter.impl === "ours" ? "guard" : "rateLimiter", async (ctx) => {
    const docs: { name: string; key?: string }[] = await ctx.db.query("rateLimits").collect();
    return docs.filter((d) => d.name === name && d.key === key).length;
  });
}

export async function limitCosts(
  samples: number,
  log: (s: string) => void,
): Promise<LimitCostRow[]> {
  const rows: LimitCostRow[] = [];
  for (const shards of [1, 10]) {
    for (const a of ALGORITHMS) {
      log(`  cost: ${a}, ${shards === 1 ? "unsharded" : `${shards} shards`}`);
      let o: Map<LimitCall, Metrics[]> | null = null;
      let note: string | undefined;
      try {
        o = await costsFor(ours, a, shards, samples);
      } catch (e) {
        note = `ours failed: ${(e as Error).message}`;
      }
      const p = PEER_ALGORITHMS.includes(a) ? await costsFor(peer, a, shards, samples) : null;
      for (const call of LIMIT_CALLS) {
        rows.push({
          algorithm: a,
          shards,
          call,
          ours: o && o.get(call)!.length ? summarize(o.get(call)!) : null,
          peer: p && p.get(call)!.length ? summarize(p.get(call)!) : null,
          ...(note ? { note } : {}),
        });
      }
    }
  }
  return rows;
}
