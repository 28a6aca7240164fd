// @vitest-environment jsdom
/**
 * Renders `useRateLimit` in a real React 19 root (react-dom, jsdom) with
 * `convex/react` replaced by fakes: `useQuery` serves what the host's
 * `hookAPI(...).getRateLimit` query returns, and the server-time mutation
 * answers with a server clock that runs SKEW ms ahead of the client's.
 * Asserts what a UI relies on: the status, `retryAt` in the client's clock,
 * `check` projections, and re-rendering on its own when the wait is over.
 */
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { makeFunctionReference } from "convex/server";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  useRateLimit,
  type GetRateLimitQuery,
  type GetServerTimeMutation,
} from "convex-guard/react";
import type {
  GetValueResult,
  RateLimitConfig,
  RateLimitState,
} from "../../src/component/rateLimits/model.js";
import { DAY, MINUTE } from "../../src/component/lib/time.js";

/** The client's clock at the start of each test. */
const CLIENT_NOW = 1_700_000_000_000;
/** How far the server's clock runs ahead of the client's. */
const SKEW = 10_000;

// What the fakes serve; a test changes `value` through `setQueryValue`.
const fake = vi.hoisted(() => ({
  value: undefined as unknown,
  listeners: new Set<() => void>(),
  queryArgs: [] as unknown[],
  /** Extra ms added to each server-time answer after the first (network jitter). */
  jitter: 0,
  serverTimeCalls: 0,
}));

vi.mock("convex/react", async () => {
  const { useSyncExternalStore } = await import("react");
  const subscribe = (l: () => void) => {
    fake.listeners.add(l);
    return () => fake.listeners.delete(l);
  };
  const mutation = async () => Date.now() + SKEW + fake.jitter * fake.serverTimeCalls++;
  const client = { mutation }; // one client for the app, like ConvexProvider's
  return {
    // A reactive query: re-renders its users when the served value changes.
    useQuery: (_ref: unknown, args: unknown) => {
      fake.queryArgs.push(args);
      return useSyncExternalStore(subscribe, () => fake.value);
    },
    useMutation: () => (_args: unknown) => client.mutation(),
    useConvex: () => client,
  };
});

function setQueryValue(value: GetValueResult | undefined) {
  act(() => {
    fake.value = value;
    for (const l of fake.listeners) l();
  });
}

const TOKEN_BUCKET: RateLimitConfig = { kind: "token bucket", rate: 60, period: MINUTE }; // 1 token per second

/** What `getRateLimit` returns for a one-shard limit in `state`, computed at server time `now`. */
function served(
  config: RateLimitConfig,
  state: RateLimitState | null,
  value: number,
  now = CLIENT_NOW + SKEW,
): GetValueResult {
  return {
    value,
    ts: state?.ts ?? now,
    shard: 0,
    shards: 1,
    capacity: (config as { rate: number }).rate,
    config,
    state,
    now,
  };
}

type Hook = ReturnType<typeof useRateLimit>;
let latest: Hook;
let renders = 0;

/**
 * A UI that shows the status. The references are built during render, so
 * each render passes a fresh object, as `api.module.fn` (a new proxy per
 * access) does in a host app.
 */
function SendButton(props: {
  count?: number;
  limitKey?: string;
  sampleShards?: number;
  serverTime?: boolean;
}) {
  renders++;
  latest = useRateLimit(
    makeFunctionReference<"query">("limits:getRateLimit") as GetRateLimitQuery,
    {
      getServerTimeMutation:
        props.serverTime === false
          ? undefined
          : (makeFunctionReference<"mutation">("limits:getServerTime") as GetServerTimeMutation),
      count: props.count,
      key: props.limitKey,
      sampleShards: props.sampleShards,
    },
  );
  const s = latest.status;
  return (
    <button disabled={!s?.ok}>
      {s === undefined ? "loading" : s.ok ? "send" : `retry at ${s.retryAt}`}
    </button>
  );
}

let container: HTMLDivElement;
let root: Root;

/** Renders (or re-renders with new props) and lets the server-time answer arrive. */
async function render(props: Parameters<typeof SendButton>[0] = {}) {
  act(() => root.render(<SendButton {...props} />));
  await act(async () => {}); // the server-time promise resolves
}

function advance(ms: number) {
  act(() => vi.advanceTimersByTime(ms));
}

beforeEach(() => {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
  vi.useFakeTimers();
  vi.setSystemTime(CLIENT_NOW);
  Object.assign(fake, { value: undefined, queryArgs: [], jitter: 0, serverTimeCalls: 0 });
  fake.listeners.clear();
  renders = 0;
  container = document.createElement("div");
  document.body.appendChild(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
  vi.useRealTimers();
});

describe("useRateLimit in a rendered component", () => {
  test("status is undefined while the query loads", async () => {
    await render();
    expect(latest.status).toBeUndefined();
    expect(latest.check()).toBeUndefined();
    expect(container.textContent).toBe("loading");
  });

  test("ok when the value covers count; retryAt in the client's clock, corrected by the server's skew", async () => {
    await render();
    expect(fake.serverTimeCalls).toBe(1);
    // Server clock: the bucket was empty 500 ms ago, so it holds 0.5 tokens now
    // and 1 token in 500 ms. Without the skew correction the hook would think
    // it is 10 s before the state and say 10.5 s.
    setQueryValue(served(TOKEN_BUCKET, { value: 0, ts: CLIENT_NOW + SKEW - 500 }, 0.5));
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 500 });
    expect(container.textContent).toBe(`retry at ${CLIENT_NOW + 500}`);
    expect(container.querySelector("button")!.disabled).toBe(true);

    setQueryValue(served(TOKEN_BUCKET, { value: 1, ts: CLIENT_NOW + SKEW }, 1));
    expect(latest.status).toEqual({ ok: true, retryAt: undefined });
    expect(container.textContent).toBe("send");
  });

  test("an asynchronous limit's unfolded consumption counts as taken", async () => {
    await render();
    // Folded: 2 tokens left; 2 more calls recorded but not folded yet.
    const config: RateLimitConfig = { ...TOKEN_BUCKET, applyUpdates: "asynchronously" };
    const now = CLIENT_NOW + SKEW;
    setQueryValue({ ...served(config, { value: 2, ts: now }, 2), unfolded: 2 });
    expect(latest.check()!.value).toBeCloseTo(0);
    // One more call needs the next token: in a second.
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 1000 });
    setQueryValue({ ...served(config, { value: 2, ts: now }, 2), unfolded: 0 });
    expect(latest.status).toEqual({ ok: true, retryAt: undefined });
  });

  test("a blocked key is not ok until its block ends, whatever its value", async () => {
    await render();
    const now = CLIENT_NOW + SKEW;
    const full = served(TOKEN_BUCKET, { value: 10, ts: now }, 10);
    setQueryValue({ ...full, blocked: { until: now + 60_000, reason: "abuse" } });
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 60_000 });
    expect(latest.check(CLIENT_NOW + 60_000)!.ok).toBe(true);
    setQueryValue(full);
    expect(latest.status).toEqual({ ok: true, retryAt: undefined });
  });

  test("without a server-time mutation the client clock is taken as the server's", async () => {
    await render({ serverTime: false });
    setQueryValue(served(TOKEN_BUCKET, { value: 0, ts: CLIENT_NOW - 500 }, 0.5));
    expect(fake.serverTimeCalls).toBe(0);
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 500 });
  });

  test("check(ts, count) projects the refill to a later client time", async () => {
    await render();
    setQueryValue(served(TOKEN_BUCKET, { value: 0, ts: CLIENT_NOW + SKEW - 500 }, 0.5));
    const later = latest.check(CLIENT_NOW + 1500, 2)!;
    // `value` is what is left after taking the count (the peer's semantics).
    expect(later.ok).toBe(true);
    expect(later.value).toBeCloseTo(0);
    // `ts` in client time, as the peer's check() returns it.
    expect(later.ts).toBe(CLIENT_NOW + 1500);
    expect(later.retryAt).toBeUndefined();

    const sooner = latest.check(CLIENT_NOW + 1000, 2)!;
    expect(sooner.ok).toBe(false);
    expect(sooner.value).toBeCloseTo(-0.5);
    expect(sooner.retryAt).toBe(CLIENT_NOW + 1500);
    // No count: is anything reserved beyond what is there? (peer semantics)
    expect(latest.check()!.ok).toBe(true);
    expect(latest.check(undefined, 1)).toMatchObject({ ok: false, retryAt: CLIENT_NOW + 500 });
  });

  test("changing count changes the answer; a count over capacity waits as the peer's hook does", async () => {
    await render({ count: 3 });
    setQueryValue(served(TOKEN_BUCKET, { value: 3, ts: CLIENT_NOW + SKEW }, 3));
    expect(latest.status).toEqual({ ok: true, retryAt: undefined });

    await render({ count: 5 });
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 2000 });

    // The peer projects the refill without the capacity cap: a finite wait.
    await render({ count: 61 });
    expect(latest.status?.ok).toBe(false);
    expect(Number.isFinite(latest.status?.retryAt)).toBe(true);

    await render({ count: 1 });
    expect(latest.status).toEqual({ ok: true, retryAt: undefined });
  });

  test("projects every kind: a sliding window's log, a quota's reset, one shard of a sharded bucket", async () => {
    await render();
    const now = CLIENT_NOW + SKEW;
    // 2 a minute, exact: admitted 50 s and 10 s ago, so the next fits in 10 s.
    const window: RateLimitConfig = {
      kind: "sliding window",
      rate: 2,
      period: MINUTE,
      precision: "exact",
    };
    setQueryValue(
      served(window, { value: 2, ts: now - 10_000, log: [now - 50_000, 1, now - 10_000, 1] }, 0),
    );
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 10_000 });
    // A quota of 3 a day, used up: ok at the reset the server reported.
    const quota: RateLimitConfig = { kind: "quota", limit: 3, per: "day" };
    setQueryValue({
      ...served(quota, { value: 3, ts: now - 3_600_000 }, 0),
      used: 3,
      limit: 3,
      resetsAt: now + 7_200_000,
    });
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 7_200_000 });
    // 4 shards of a 60-a-minute bucket: this shard refills 15 a minute, one token in 4 s.
    setQueryValue({
      ...served({ ...TOKEN_BUCKET, shards: 4 }, { value: 0, ts: now }, 0),
      shards: 4,
    });
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 4000 });
  });

  test("sends key and sampleShards to the host query", async () => {
    await render({ limitKey: "user:1", sampleShards: 2 });
    expect(fake.queryArgs.at(-1)).toEqual({ key: "user:1", sampleShards: 2 });
  });

  test("re-renders by itself at retryAt, with no new query result", async () => {
    await render();
    setQueryValue(served(TOKEN_BUCKET, { value: 0, ts: CLIENT_NOW + SKEW - 500 }, 0.5));
    advance(499);
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 500 });
    advance(1);
    expect(latest.status).toEqual({ ok: true, retryAt: undefined });
    expect(container.textContent).toBe("send");
  });

  test("asks the server clock once, though each render passes a fresh function reference", async () => {
    // Each answer differs a little (latency jitter), as over a real network:
    // re-asking on every render would re-render and re-ask forever.
    fake.jitter = 3;
    await render();
    setQueryValue(served(TOKEN_BUCKET, { value: 0, ts: CLIENT_NOW + SKEW - 500 }, 0.5));
    for (let i = 0; i < 5; i++) await render({ count: 1 + (i % 2) });
    expect(fake.serverTimeCalls).toBe(1);
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 500 });
  });

  test("still turns ok when its timer fires before retryAt (the wall clock stepped back)", async () => {
    await render();
    setQueryValue(served(TOKEN_BUCKET, { value: 0, ts: CLIENT_NOW + SKEW - 500 }, 0.5));
    // An NTP step moves Date.now() back 5 ms; pending timers keep their delay.
    vi.setSystemTime(Date.now() - 5);
    advance(500); // the timer fires at client time retryAt - 5
    expect(latest.status).toEqual({ ok: false, retryAt: CLIENT_NOW + 500 });
    advance(5);
    expect(latest.status).toEqual({ ok: true, retryAt: undefined });
  });

  test("a wait longer than setTimeout's 24.8-day maximum neither spins nor is missed", async () => {
    const monthly: RateLimitConfig = { kind: "token bucket", rate: 1, period: 60 * DAY };
    await render();
    setQueryValue(served(monthly, { value: 0, ts: CLIENT_NOW + SKEW }, 0));
    const status = latest.status!;
    // About 60 days (the math's token epsilon admits a few ms early at this tiny rate, as the server does).
    expect(status.ok).toBe(false);
    const retryAt = status.retryAt!;
    expect(Math.abs(retryAt - (CLIENT_NOW + 60 * DAY))).toBeLessThan(10);
    const before = renders;
    // A delay over 2^31-1 ms fires at once: the hook would re-render every ms.
    for (let i = 0; i < 20; i++) advance(50);
    expect(renders - before).toBe(0);
    advance(retryAt - 1 - Date.now());
    expect(latest.status).toEqual({ ok: false, retryAt });
    advance(1);
    expect(latest.status).toEqual({ ok: true, retryAt: undefined });
  });
});
