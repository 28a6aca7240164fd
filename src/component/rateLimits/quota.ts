/**
 * Calendar quotas: at most `limit` per calendar hour, day, week or month in a
 * time zone ("50 messages a day, resetting at the user's midnight", "$5 a
 * month from the 1st"). State `{ value: used this period, ts: period start }`.
 * A reservation may take more than the period has left (up to maxReserved,
 * at most MAX_DEBT_PERIODS periods' `limit`): the excess is charged to the
 * next periods, `limit` each.
 */
import { nextPeriodStart, periodStart, unitsBetween, type Calendar } from "./calendar.js";
import { max } from "../lib/math.js";

/** A quota's maxReserved is at most this many periods' `limit` (and is that by default). */
export const MAX_DEBT_PERIODS = 1000;

export type QuotaState = { value: number; ts: number };
export type QuotaParams = { limit: number; calendar: Calendar };

export function initialQuota(p: QuotaParams, now: number): QuotaState {
  return { value: 0, ts: periodStart(p.calendar, now) };
}

/**
 * Moves a state into the period containing `t`, carrying reserved excess
 * forward: each calendar unit since the state's period pays `limit` of it
 * (`unitsBetween`), in closed form, so the cost does not grow with the debt.
 */
export function advanceQuota(p: QuotaParams, st: QuotaState, t: number): QuotaState {
  if (t < st.ts) return st;
  const start = periodStart(p.calendar, t);
  if (start <= st.ts) return st;
  const paid = unitsBetween(p.calendar, st.ts, start) * p.limit;
  return { value: max(0, st.value - paid), ts: start };
}

/** When the period of a state ends: the `resetsAt` a UI shows. */
export function quotaResetsAt(p: QuotaParams, st: QuotaState): number {
  return nextPeriodStart(p.calendar, st.ts);
}
