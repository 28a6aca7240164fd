/**
 * Calendar quotas: at most `limit` per calendar hour, day, week or month in a
 * time zone ("50 messages a day, resetting at the user's midnight", "$5 a
 * month from the 1st"). State `{ value: used this period, ts: period start }`.
 * A reservation may take more than the period has left (up to maxReserved):
 * the excess is charged to the next periods, `limit` each.
 */
import { nextPeriodStart, periodStart, type Calendar } from "./calendar.js";

export type QuotaState = { value: number; ts: number };
export type QuotaParams = { limit: number; calendar: Calendar };

export function initialQuota(p: QuotaParams, now: number): QuotaState {
  return { value: 0, ts: periodStart(p.calendar, now) };
}

/** Moves a state into the period containing `t`, carrying reserved excess forward. */
export function advanceQuota(p: QuotaParams, st: QuotaState, t: number): QuotaState {
  let next = nextPeriodStart(p.calendar, st.ts);
  if (t < next) return st;
  let used = st.value;
  let start = st.ts;
  // Each period pays off `limit` of the excess; once nothing is owed, jump.
  while (t >= next && used > 0) {
    used = Math.max(0, used - p.limit);
    start = next;
    next = nextPeriodStart(p.calendar, start);
  }
  if (t >= next) start = periodStart(p.calendar, t);
  return { value: used, ts: start };
}

/** What is left this period (negative while a reservation is outstanding). */
export function quotaRemaining(p: QuotaParams, st: QuotaState): number {
  return p.limit - st.value;
}

/** When the period of a state ends: the `resetsAt` a UI shows. */
export function quotaResetsAt(p: QuotaParams, st: QuotaState): number {
  return nextPeriodStart(p.calendar, st.ts);
}
