import { useCallback, useEffect, useMemo, useReducer, useState } from "react";
import { useConvex, useQuery } from "convex/react";
import type { FunctionReference } from "convex/server";
import { projectRemaining } from "../shared/rateLimitMath.js";
import type { GetValueResult } from "../shared/rateLimitValidators.js";

/** The host query `limiter.hookAPI(...).getRateLimit` defines. */
export type GetRateLimitQuery = FunctionReference<
  "query",
  "public",
  { key?: string; sampleShards?: number },
  GetValueResult
>;

/** The name `@convex-dev/rate-limiter/react` uses for the same query type. */
export type GetRateLimitValueQuery = GetRateLimitQuery;

/** The host mutation `limiter.hookAPI(...).getServerTime` defines. */
export type GetServerTimeMutation = FunctionReference<"mutation", "public", Record<string, never>, number>;

export type UseRateLimitOptions = {
  /** Corrects the client clock to the server's (recommended). */
  getServerTimeMutation?: GetServerTimeMutation;
  /** Tokens the next call will take (default 1). */
  count?: number;
  /** Sent to the host query; honoured only if its hookAPI `key` is a function. */
  key?: string;
  sampleShards?: number;
};

export type RateLimitStatus = { ok: true; retryAt: undefined } | { ok: false; retryAt: number };

/**
 * Live rate-limit status for a UI: `status.ok` says whether a call of `count`
 * would pass now; when not, `retryAt` is the client-clock time it will, and
 * the hook re-renders then. `check(ts?, count?)` projects to any time.
 * `status` is undefined until the query loads.
 */
export function useRateLimit(getRateLimitQuery: GetRateLimitQuery, opts?: UseRateLimitOptions) {
  // clientTime + offset = serverTime
  const [offset, setOffset] = useState(0);
  const refresh = useReducer((c: number) => c + 1, 0)[1];
  const convex = useConvex();
  const { getServerTimeMutation, count, key, sampleShards } = opts ?? {};

  useEffect(() => {
    if (!getServerTimeMutation) return;
    const sent = Date.now();
    void convex.mutation(getServerTimeMutation, {}).then((serverTime: number) => {
      const received = Date.now();
      setOffset(serverTime - (sent + received) / 2);
    });
  }, [convex, getServerTimeMutation]);

  const data = useQuery(getRateLimitQuery, { key, sampleShards });

  const check = useCallback(
    (ts?: number, n?: number) => {
      if (!data) return undefined;
      const serverTime = (ts ?? Date.now()) + offset;
      const p = projectRemaining(data.config, data.state, serverTime, n ?? 0);
      return {
        value: p.value,
        ok: p.ok,
        retryAt: p.retryAfter !== undefined ? serverTime + p.retryAfter - offset : undefined,
        shard: data.shard,
        shards: data.shards,
        config: data.config,
      };
    },
    [data, offset],
  );

  const current = check(Date.now(), count ?? 1);
  const status: RateLimitStatus | undefined = useMemo(() => {
    if (!current) return undefined;
    return current.ok ? { ok: true, retryAt: undefined } : { ok: false, retryAt: current.retryAt! };
  }, [current?.ok, current?.retryAt]);

  useEffect(() => {
    if (!status || status.ok || !Number.isFinite(status.retryAt)) return;
    const timer = setTimeout(refresh, Math.max(0, status.retryAt - Date.now()));
    return () => clearTimeout(timer);
  }, [status?.ok, status?.retryAt, refresh]);

  return { status, check };
}
