/**
 * One shape for both rate limiters, so every section runs the same workload
 * through ours and through @convex-dev/rate-limiter.
 */
import { RateLimiter as PeerRateLimiter } from "@convex-dev/rate-limiter";
import { RateLimiter } from "convex-guard";
import { components } from "./harness.js";

export type Status = { ok: boolean; retryAfter?: number };
export type Config = {
  kind: "sliding window" | "token bucket" | "fixed window";
  rate: number;
  period: number;
  capacity?: number;
  shards?: number;
  precision?: "approximate" | "exact";
  start?: number;
};
export type Limiter = {
  impl: "ours" | "peer";
  limit(ctx: any, name: string, opts?: { key?: string; count?: number }): Promise<Status>;
  check(ctx: any, name: string, opts?: { key?: string; count?: number }): Promise<Status>;
  /** Ours: `limitAll` (one call, all or nothing). The peer has none: two `limit` calls. */
  limitAll(ctx: any, reqs: { name: string; key?: string }[]): Promise<Status>;
};

export function ours(limits: Record<string, Config>): Limiter {
  const l = new RateLimiter(components.guard, limits as any);
  return {
    impl: "ours",
    limit: (ctx, name, opts) => l.limit(ctx, name as any, opts as any),
    check: (ctx, name, opts) => l.check(ctx, name as any, opts as any),
    limitAll: (ctx, reqs) => l.limitAll(ctx, reqs as any),
  };
}

export function peer(limits: Record<string, Config>): Limiter {
  for (const c of Object.values(limits)) {
    if (c.kind === "sliding window") throw new Error("the peer has no sliding window");
  }
  const l = new PeerRateLimiter(components.rateLimiter, limits as any);
  return {
    impl: "peer",
    limit: (ctx, name, opts) => l.limit(ctx, name as any, opts as any),
    check: (ctx, name, opts) => l.check(ctx, name as any, opts as any),
    limitAll: async (ctx, reqs) => {
      for (const r of reqs) {
        const s = await l.limit(ctx, r.name as any, { key: r.key } as any);
        if (!s.ok) return s;
      }
      return { ok: true };
    },
  };
}
