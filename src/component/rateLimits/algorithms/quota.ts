import { v } from "convex/values";
import { NOMINAL_LENGTH, assertCalendar, localIso, type Calendar } from "../calendar.js";
import type { QuotaConfig } from "../model.js";
import { EPS } from "../numeric.js";
import {
  MAX_DEBT_PERIODS,
  advanceQuota,
  initialQuota,
  quotaResetsAt,
  type QuotaParams,
} from "../quota.js";
import {
  assertPositiveOption,
  configError,
  debtReserveLimit,
  reserveAsDebt,
  valueTsCodec,
} from "./shared.js";
import type { Algorithm, ShardConfig } from "./types.js";
import { max, min } from "../../lib/math.js";

/** Stored: `value` used in the period that starts at `ts`. */
export const vQuotaState = v.object({ value: v.number(), ts: v.number() });

/** One shard's share: its part of `limit`, in the limit's calendar. */
function params(s: ShardConfig): QuotaParams {
  return { limit: s.capacity, calendar: s.calendar as Calendar };
}

/**
 * Calendar quota (`kind: "quota"`): at most `limit` per calendar hour, day,
 * week or month in `timeZone` (../calendar.ts, ../quota.ts). `value` = used
 * this period, `ts` = the period's start. A denied call's `retryAfter` is the
 * time until the next period starts. `maxReserved` defaults to, and is capped
 * at, MAX_DEBT_PERIODS x limit.
 */
export const quota: Algorithm<QuotaConfig> = {
  id: "quota",
  options: ["limit", "per", "timeZone", "weekStartsOn"],
  sizeOption: "limit",
  wholeUnits: false,
  reportsStored: false,
  ...valueTsCodec("quota"),
  shape: (config, name) => {
    const limit = assertPositiveOption(name, "limit", config.limit);
    const calendar = assertCalendar(config, name);
    return { rate: limit, period: NOMINAL_LENGTH[calendar.per] };
  },
  configure: (config, name, rate) => {
    // Debt is bounded: at most MAX_DEBT_PERIODS periods' limit may be owed.
    const most = MAX_DEBT_PERIODS * rate;
    if (config.maxReserved !== undefined && config.maxReserved > most) {
      throw configError(
        name,
        `a quota's maxReserved is at most ${MAX_DEBT_PERIODS} x limit (${most}), got ${config.maxReserved}`,
        "maxReserved",
      );
    }
    return {
      capacity: rate,
      maxReserved: config.maxReserved ?? most,
      calendar: assertCalendar(config, name),
    };
  },
  initial: (s, _seed, now) => initialQuota(params(s), now),
  advance: (s, state, _seed, t) => advanceQuota(params(s), state, t),
  remaining: (s, state) => s.capacity - state.value,
  capacity: (s) => s.capacity,
  take: (_s, state, count) => (count === 0 ? state : { ...state, value: state.value + count }),
  reserveLimit: debtReserveLimit,
  reserve: reserveAsDebt,
  idle: (_s, state) => state.value <= EPS,
  credit: (_s, state, _t, amount) => {
    const credited = max(0, min(amount, state.value));
    return { state: { ...state, value: state.value - credited }, credited };
  },
  windowStart: (s, state, _seed, now) =>
    state === null ? initialQuota(params(s), now).ts : advanceQuota(params(s), state, now).ts,
  describe: (s, state, _seed, now) => {
    const p = params(s);
    const st = state === null ? initialQuota(p, now) : advanceQuota(p, state, now);
    const resetsAt = quotaResetsAt(p, st);
    return {
      used: st.value,
      limit: s.capacity,
      resetsAt,
      resetsAtLocal: localIso(p.calendar.timeZone, resetsAt),
    };
  },
};
