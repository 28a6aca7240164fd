/**
 * The projection a UI needs from what `getValue` served: how much is left at
 * a later time and when a call of `count` fits. Pure and self-contained (it
 * imports types only, no validation or engine code), so the React hook
 * bundles it alone; `calculateRateLimit` uses its token-bucket and
 * fixed-window math, which is the peer's.
 *
 * Exact for token buckets, fixed windows and the exact sliding window. The
 * default sliding window counts each entry of its log as admitted at the
 * entry's last time (it may only expire later than the server's model says,
 * never earlier) and never below the value the server computed. A quota is
 * exact up to the next reset (`resetsAt`); a debt lasting beyond it is
 * projected with the longest periods (25-hour days), so a wait is never short.
 */
import type { GetValueResult, RateLimitState } from "./model.js";

export type Projection = {
  /** Left at the projected time after taking `count` (negative: not enough). */
  value: number;
  /** The state's time after projecting. */
  ts: number;
  /** ms from the projected time until `count` fits (Infinity: never); undefined when it fits. */
  retryAfter: number | undefined;
  /** Fixed window only: start of the window `ts` was projected from. */
  windowStart: number | undefined;
};

type Stored = { value: number; ts: number };

/** A token bucket refilling `rate` per `period` up to `max`, as the peer projects it. */
export function projectBucket(
  state: Stored,
  rate: number,
  period: number,
  max: number,
  now: number,
  count: number,
): Projection {
  const perMs = rate / period;
  const value = Math.min(state.value + (now - state.ts) * perMs, max) - count;
  return {
    value,
    ts: now,
    retryAfter: value < 0 ? -value / perMs : undefined,
    windowStart: undefined,
  };
}

/** A fixed window adding `rate` each `period` from `state.ts`, up to `max`, as the peer projects it. */
export function projectFixedWindow(
  state: Stored,
  rate: number,
  period: number,
  max: number,
  now: number,
  count: number,
): Projection {
  const windows = Math.floor((now - state.ts) / period);
  const value = Math.min(state.value + rate * windows, max) - count;
  const ts = state.ts + windows * period;
  const retryAfter = value < 0 ? ts + period * Math.ceil(-value / rate) - now : undefined;
  return { value, ts, retryAfter, windowStart: state.ts };
}

const HOUR = 3_600_000;
/** The longest a calendar period lasts where clocks change by an hour. */
const LONGEST = { hour: HOUR, day: 25 * HOUR, week: 169 * HOUR, month: 745 * HOUR };

/** What the projection reads of `getValue`'s result. */
export type Served = Pick<GetValueResult, "config" | "state" | "value" | "now"> &
  Partial<Pick<GetValueResult, "windowStart" | "used" | "resetsAt">>;

/**
 * Projects one shard, as `getValue` served it, to server time `at` after
 * taking `count`. A shard never written is full.
 */
export function project(served: Served, at: number, count: number): Projection {
  const { config, state } = served;
  const shards = config.shards ?? 1;
  const ts = state?.ts ?? at;
  const fits = (left: number, wait: () => number): Projection => ({
    value: left - count,
    ts,
    retryAfter: left - count + 1e-9 >= 0 ? undefined : wait(),
    windowStart: undefined,
  });
  switch (config.kind) {
    case "token bucket":
    case "fixed window": {
      const rate = config.rate / shards;
      const max = (config.capacity ?? config.rate) / shards;
      const start = config.kind === "fixed window" ? (config.start ?? served.windowStart) : at;
      const from = state ?? { value: max, ts: start ?? at };
      return (config.kind === "token bucket" ? projectBucket : projectFixedWindow)(
        from,
        rate,
        config.period,
        max,
        at,
        count,
      );
    }
    case "sliding window": {
      const max = Math.floor(config.rate / shards + 1e-9);
      const log = entries(config.period, state).filter(([t]) => t > at - config.period);
      let live = 0;
      for (const [, n] of log) live += n;
      // Admissions only leave the window: what the server saw left is a floor later on.
      const left = Math.max(max - live, at >= served.now ? served.value : -Infinity);
      return fits(left, () => {
        if (count > max) return Infinity;
        for (const [t, n] of log) {
          live -= n;
          if (max - live >= count) return Math.max(0, t + config.period - at);
        }
        return 0;
      });
    }
    case "quota": {
      const limit = config.limit / shards;
      const used = served.used ?? state?.value ?? 0;
      const resetsAt = served.resetsAt ?? at;
      const longest = LONGEST[config.per];
      // Periods begun since `resetsAt`'s (0 before it); each pays `limit` of a debt.
      const paid = at < resetsAt ? 0 : 1 + Math.floor((at - resetsAt) / longest);
      const left = limit - Math.max(0, used - paid * limit);
      return fits(left, () => {
        if (count > limit) return Infinity;
        const periods = Math.ceil((used + count - limit) / limit - 1e-9);
        return Math.max(0, resetsAt + (periods - 1) * longest - at);
      });
    }
  }
}

/** A sliding window's log as [time, count] pairs in time order. */
function entries(period: number, state: RateLimitState | null): [number, number][] {
  const out: [number, number][] = [];
  const log = state?.log;
  if (Array.isArray(log)) {
    // The exact window: [t0, n0, t1, n1, ...].
    for (let i = 0; i + 1 < log.length; i += 2) out.push([log[i] ?? 0, log[i + 1] ?? 0]);
  } else if (log && state) {
    // The default window (windowCodec.ts): per entry three varints, the last
    // time's step from the previous (from the anchor `ts`) in quanta, the
    // span, and count * 16 + lateness. Each entry counts at its last time.
    const quantum = Math.max(1, period / 2 ** 16);
    const bytes = new Uint8Array(log);
    let i = 0;
    const read = () => {
      let x = 0;
      for (let scale = 1; i < bytes.length; scale *= 128) {
        const b = bytes[i++] ?? 0;
        x += (b % 128) * scale;
        if (b < 128) break;
      }
      return x;
    };
    let at = 0;
    while (i < bytes.length) {
      at += read();
      read();
      out.push([state.ts + at * quantum, Math.floor(read() / 16)]);
    }
  }
  return out;
}
