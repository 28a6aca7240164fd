/**
 * Contention rows for usage stats: the same concurrent `limit` calls with
 * `stats` off and on, through the read/write-set model of ./contention.ts.
 * "New conflicts" is how many more pairs conflict with stats on; the promise
 * says none. The hour-rollover scenario has every call be its key's first of a
 * new hour (the one that appends the previous hour's counters), with the
 * maintenance loop already scheduled as a running deployment has it.
 */
import { HOUR, MINUTE, RateLimiter, type RateLimitConfig } from "convex-guard";
import { contentionOf, type ContentionRow } from "./contention.js";
import { components, newInstance, setNow } from "./harness.js";

type Scenario = {
  name: string;
  config: RateLimitConfig;
  /** Key of call i (same key: a hot key). */
  key: (i: number) => string;
  /** Moves to the next hour between warm-up and the measured calls. */
  rollover?: boolean;
};

const bucket = (rate: number): RateLimitConfig => ({ kind: "token bucket", rate, period: MINUTE });
// A key whose state lives past the hour (a daily quota): its next call rolls the hour over.
const daily: RateLimitConfig = { kind: "quota", limit: 1e6, per: "day" };

const SCENARIOS: Scenario[] = [
  { name: "one key, every call denied (token bucket)", config: bucket(1), key: () => "hot" },
  { name: "one key, allowed (token bucket)", config: bucket(1e6), key: () => "hot" },
  { name: "distinct keys, allowed (token bucket)", config: bucket(1e6), key: (i) => `k${i}` },
  {
    name: "distinct keys, first call of a new hour (daily quota)",
    config: daily,
    key: (i) => `k${i}`,
    rollover: true,
  },
];

export async function statsContention(
  n: number,
  rounds: number,
  start: number,
  log: (s: string) => void,
): Promise<ContentionRow[]> {
  const rows: ContentionRow[] = [];
  for (const sc of SCENARIOS) {
    for (const stats of [false, true]) {
      const scenario = `limit with stats ${stats ? "on" : "off"}: ${sc.name}`;
      log(`  contention: ${scenario}`);
      const t = newInstance();
      const hour = Math.floor(start / HOUR) * HOUR;
      setNow(hour + 10 * MINUTE);
      const l = new RateLimiter(components.guard, { l: { ...sc.config, stats } });
      const keys = new Set(Array.from({ length: n * rounds }, (_, i) => sc.key(i)));
      for (const key of keys) await t.mutation((ctx: any) => l.limit(ctx, "l", { key }));
      // The loop as a deployment has it: a tick pending for the work that is due.
      await t.mutation((ctx: any) => ctx.runMutation(components.guard.maintenance.runNow, {}));
      if (sc.rollover) setNow(hour + HOUR + 30_000);
      const row = await contentionOf(scenario, "ours", t, n, rounds, (ctx, i) =>
        l.limit(ctx, "l", { key: sc.key(i) }),
      );
      rows.push(row);
    }
  }
  return rows;
}

/** Most conflicting pairs % that stats on adds over stats off, in any scenario (null: not measured). */
export function newConflictPct(rows: ContentionRow[]): number | null {
  const on = rows.filter((r) => r.scenario.startsWith("limit with stats on: "));
  if (on.length === 0) return null;
  let most = 0;
  for (const r of on) {
    const off = rows.find((x) => x.scenario === r.scenario.replace("stats on", "stats off"));
    if (off === undefined) return null;
    most = Math.max(most, r.conflictPct - off.conflictPct);
  }
  return most;
}
