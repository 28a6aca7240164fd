import { useCallback, useEffect, useMemo, useReducer, useState } from "react";
import { useConvex, useQuery } from "convex/react";
import { getFunctionName, type FunctionReference } from "convex/server";
import { project } from "../component/rateLimits/projection.js";
import type { GetValueResult, RateLimitConfig } from "../component/rateLimits/model.js";

/** The host query `limiter.hookAPI(...).getRateLimit` defines. */
export type GetRateLimitQuery = FunctionReference<
  "query",
  "public",
  { name?: string; key?: string; sampleShards?: number; config?: RateLimitConfig },
  GetValueResult
>;

/** The name `@convex-dev/rate-limiter/react` uses for the same query type. */
export type GetRateLimitValueQuery = GetRateLimitQuery;

/** The host mutation `limiter.hookAPI(...).getServerTime` defines. */
export type GetServerTimeMutation = FunctionReference<
  "mutation",
  "public",
  Record<string, never>,
  number
>;

export type UseRateLimitOptions = {
  /** Corrects the client clock to the server's (recommended). */
  getServerTimeMutation?: GetServerTimeMutation;
  /** Tokens the next call will take (default 1). */
  count?: number;
  /** Sent to the host query, which refuses it unless its hookAPI `key` is a function. */
  key?: string;
  sampleShards?: number;
  /** Another limit than the one hookAPI names (it must be defined or given a `config`). */
  name?: string;
  config?: RateLimitConfig;
};

/** setTimeout's largest delay (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMEOUT = 2 ** 31 - 1;

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
  const [tick, refresh] = useReducer((c: number) => c + 1, 0);
  const convex = useConvex();
  const { getServerTimeMutation, count, key, sampleShards, name, config } = opts ?? {};
  // Keyed by name, not identity: `api.module.fn` is a new object on every
  // access, and re-asking each render would re-render and re-ask forever.
  const serverTimeName = getServerTimeMutation ? getFunctionName(getServerTimeMutation) : undefined;

  useEffect(() => {
    if (!getServerTimeMutation) return;
    let live = true;
    const sent = Date.now();
    void convex.mutation(getServerTimeMutation, {}).then((serverTime: number) => {
      const received = Date.now();
      if (live) setOffset(serverTime - (sent + received) / 2);
    });
    return () => {
      live = false;
    };
    // Only these two select the mutation; `getServerTime` itself may be a new reference per render.
  }, [convex, serverTimeName]);

  const served = useQuery(getRateLimitQuery, { name, key, sampleShards, config });
  // `@convex-dev/rate-limiter`'s getValue serves `value` at `ts` and no `state`
  // or `now`: for its kinds (token bucket, fixed window) that pair is the state.
  const data = useMemo(
    () =>
      served && served.state === undefined
        ? { ...served, state: { value: served.value, ts: served.ts }, now: served.ts }
        : served,
    [served],
  );

  /**
   * The value at client time `ts` (default now) after taking `n` (default 0):
   * `ok` if `n` fits (the value is not negative, up to the rounding the
   * component admits with), else `retryAt` (client clock) when it will.
   * Projects the served shard (../component/rateLimits/projection.ts: exact
   * for token buckets, fixed windows and exact sliding windows; never early
   * for the default sliding window and for a quota's debt beyond its reset).
   * An asynchronous limit's unfolded consumption counts as already taken; a
   * blocked key is not `ok` before its block ends (`retryAt` at the latest of
   * the two).
   */
  const check = useCallback(
    (ts?: number, n?: number) => {
      if (!data) return undefined;
      const clientTime = ts ?? Date.now();
      const serverTime = clientTime + offset;
      const p = project(data, serverTime, (n ?? 0) + (data.unfolded ?? 0));
      // A blocked key is denied until the block ends, whatever its value.
      const blockedUntil = data.blocked && serverTime < data.blocked.until ? data.blocked.until : 0;
      const fitsAt = p.retryAfter !== undefined ? serverTime + p.retryAfter - offset : undefined;
      // One fact, not two: the call fits exactly when there is no time to retry at.
      const retryAt = blockedUntil > 0 ? Math.max(blockedUntil - offset, fitsAt ?? 0) : fitsAt;
      return {
        value: p.value,
        ts: p.ts - offset,
        ok: retryAt === undefined,
        retryAt,
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
    const { retryAt } = current;
    return retryAt === undefined ? { ok: true, retryAt } : { ok: false, retryAt };
  }, [current?.ok, current?.retryAt]);

  // Re-render at retryAt. `tick` re-arms the timer after each render it
  // causes, so a timer that fires early (the wall clock stepped back) or at
  // MAX_TIMEOUT (a longer wait) does not leave the status stuck.
  useEffect(() => {
    if (!status || status.ok || !Number.isFinite(status.retryAt)) return;
    const timer = setTimeout(
      refresh,
      Math.min(MAX_TIMEOUT, Math.max(0, status.retryAt - Date.now())),
    );
    return () => clearTimeout(timer);
  }, [status?.ok, status?.retryAt, tick, refresh]);

  return { status, check };
}
