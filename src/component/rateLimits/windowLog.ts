/**
 * The default (approximate) sliding window: a compressed admission log.
 *
 * The exact rule is "at most `rate` admissions in any `period`". An exact log
 * needs one entry per admission; this one keeps at most `MAX_ENTRIES` (40)
 * entries of (first time, last time, count, lateness bound) in at most 221
 * bytes, and is exact whenever a window holds no more than 40 distinct
 * admission times (so always for `rate <= 40`). Above that, neighbouring
 * entries in the same sub-window cell (`period / 16`, cells aligned to the
 * key's first call, not to the clock) merge, choosing the merge whose model
 * strays least, in admissions, from its parts' count so far (`mergeCost`). A
 * merged entry models its admissions as evenly spaced from its first to its
 * last time (unbiased for Poisson-like traffic, exact for a steady trickle)
 * and carries `late`, a bound on how much later than modelled any of them
 * really was. The count never falls more than `slack` = capacity / 100 below
 * the most that bound allows, and never above the conservative count, so:
 * - any period holds at most capacity + slack admissions (burst <= 1.01);
 * - a denied call's `retryAfter` is at most one cell (<= period / 16) later
 *   than the exact log's, because an entry never spans more than a cell;
 * - it errs both ways by the noise of the even model, measured in
 *   bench/accuracy.ts and test/rateLimits/windowLog.test.ts.
 * Work per call is O(MAX_ENTRIES) whatever the rate.
 *
 * Stored as `{ value, ts, log }`: `value` = admissions logged, `ts` = the
 * anchor (a cell boundary at least one period before the latest call; every
 * entry after it is kept), `log` = the entries as bytes (./windowCodec.ts).
 */
import {
  MAX_ENTRY_COUNT,
  decodeLog,
  encodeLog,
  fitsBudget,
  internal,
  quantum,
  type Entry,
} from "./windowCodec.js";
import { abs, ceil, floor, max, min } from "../lib/math.js";

export { MAX_ENTRIES, MAX_ENTRY_COUNT } from "./windowCodec.js";
/** Cells per period: an entry never spans more than one cell. */
export const CELLS = 16;
/**
 * Fraction of the capacity one irregular entry may be modelled as expired
 * early: the most admissions in any period stay <= (1 + SLACK) * capacity.
 */
export const SLACK = 1 / 100;
/** Reservations may run at most this many periods' worth of `rate` ahead. */
export const MAX_RESERVED_PERIODS = 8;

/**
 * `capacity`: the shard's whole admissions per period; it sets the slack
 * (omitted: 0, the fully conservative model).
 */
export type WindowParams = { period: number; capacity?: number };
/**
 * The state: `log` is bytes (./windowCodec.ts). Typed as the rate limiter's
 * in-memory state, whose `log` other algorithms use as an array; the
 * sliding window's `decode` only ever hands this module bytes.
 */
export type StoredWindow = { value: number; ts: number; log?: number[] | ArrayBuffer };

type Window = { anchor: number; entries: Entry[] };

/** Cell width: a whole number of quanta, at most period / 16. */
export function cellWidth(period: number): number {
  const q = quantum(period);
  return q * max(1, floor(period / CELLS / q));
}

function decode(p: WindowParams, st: StoredWindow): Window {
  if (!(st.log instanceof ArrayBuffer)) throw internal("log is not bytes");
  return { anchor: st.ts, entries: decodeLog(p.period, st.ts, st.log) };
}

function encode(p: WindowParams, w: Window): StoredWindow {
  let value = 0;
  for (const e of w.entries) value += e.n;
  return { value, ts: w.anchor, log: encodeLog(p.period, w.anchor, w.entries) };
}

// ---------------------------------------------------------------------------
// The model: which admissions are still in the window (t - period, t].
// ---------------------------------------------------------------------------

/** How many admissions the model may count as expired before they are known to be. */
export function slackOf(p: WindowParams): number {
  return floor((p.capacity ?? 0) * SLACK);
}

/** Admissions of an even run (n, `step` apart) at or before `d` after its first. */
function runUpTo(n: number, step: number, d: number): number {
  if (d < 0) return 0;
  return step === 0 ? n : min(n, 1 + floor(d / step + 1e-9));
}

/**
 * Modelled admissions of `e` more than `d` after its first (evenly spaced
 * from f to t). Callers pass differences of times, never absolute times less
 * a fraction: at epoch-sized times that would round differently depending
 * on where the clock started.
 */
function evenAfter(e: Entry, d: number): number {
  return e.n - runUpTo(e.n, stepOf(e), d);
}

/**
 * Admissions of `e` after `x`, as the window counts them: the even model,
 * raised to within `slack` of the most that can be live (the even model
 * shifted `late` later), never above n - 1 once `f` has passed (the first
 * admission was at f).
 */
function liveAfter(e: Entry, x: number, slack: number): number {
  const d = x - e.f;
  const even = evenAfter(e, d);
  if (e.late === 0 || even === e.n) return even;
  return max(even, min(e.n - 1, evenAfter(e, d - e.late) - slack));
}

function liveIn(p: WindowParams, w: Window, t: number): number {
  const slack = slackOf(p);
  let live = 0;
  for (const e of w.entries) live += liveAfter(e, t - p.period, slack);
  return live;
}

/** Modelled spacing of an entry's admissions. */
function stepOf(e: Entry): number {
  return e.n <= 1 ? 0 : (e.t - e.f) / (e.n - 1);
}

/**
 * How far merging moves modelled admission times: the sum over admissions of
 * |time in the merged entry - time in its part| (both evenly spaced), which
 * is linear along each part and 0 at the merged entry's two ends.
 */
function displacement(a: Entry, b: Entry): number {
  const n = a.n + b.n;
  const step = (b.t - a.f) / (n - 1);
  const endOfA = abs((a.n - 1) * (step - stepOf(a)));
  // Differences of times only: the cost is the same wherever the clock starts.
  const startOfB = abs(a.n * step - (b.f - a.f));
  return (a.n * endOfA + b.n * startOfB) / 2;
}

/** Admissions of an even run strictly before `d` after its first. */
function runBefore(n: number, step: number, d: number): number {
  if (d <= 0) return 0;
  return step === 0 ? n : min(n, ceil(d / step - 1e-9));
}

/**
 * What a merge costs, in admissions: how far the merged model's count of
 * admissions so far strays from its parts' (largest where `a` ends and `b`
 * begins). That count is what a window decision reads as the boundary
 * passes, so a merge that keeps it close keeps decisions close. Parts that
 * are already irregular (`late` > 0) cost a quarter of their count more: a
 * second merge widens their lateness bound, which the model pays for in
 * conservative counts.
 */
const IRREGULAR_COST = 1 / 4;
function mergeCost(a: Entry, b: Entry): number {
  const n = a.n + b.n;
  const step = (b.t - a.f) / (n - 1);
  const drift = max(
    abs(runUpTo(n, step, a.t - a.f) - a.n),
    abs(runBefore(n, step, b.f - a.f) - a.n),
  );
  const irregular = max(a.late > 0 ? a.n : 0, b.late > 0 ? b.n : 0);
  return drift + IRREGULAR_COST * irregular;
}

function merged(a: Entry, b: Entry): Entry {
  const n = a.n + b.n;
  return { f: a.f, t: b.t, n, late: isEvenRun(a, b) ? 0 : mergedLate(a, b) };
}

/** Are a then b one exactly evenly spaced run (a steady trickle)? */
function isEvenRun(a: Entry, b: Entry): boolean {
  if (a.late > 0 || b.late > 0 || b.f <= a.t) return false;
  const gap = b.f - a.t;
  return [a, b].every((e) => e.n === 1 || (e.f < e.t && abs(stepOf(e) - gap) < 1e-6));
}

/**
 * A bound on how much later than its merged model time any admission was:
 * its part's bound plus how far the part's model is after the merged one
 * (linear along each part, so largest at a part's ends; 0 at both ends of
 * the merged entry).
 */
function mergedLate(a: Entry, b: Entry): number {
  const step = (b.t - a.f) / (a.n + b.n - 1);
  const aShift = max(0, (a.n - 1) * (stepOf(a) - step));
  const bShift = max(0, b.f - a.f - a.n * step);
  return min(b.t - a.f, max(a.late + aShift, b.late + bShift));
}

/** Merges the adjacent pair that costs least (`mergeCost`), preferring pairs in one cell. */
function mergeOnce(p: WindowParams, w: Window): void {
  const width = cellWidth(p.period);
  const cell = (x: number) => floor((x - w.anchor) / width + 1e-9);
  let best: { i: number; a: Entry; b: Entry } | undefined;
  let bestCost = Infinity;
  let bestMoved = Infinity;
  let bestSameCell = false;
  for (const [j, b] of w.entries.entries()) {
    const a = w.entries[j - 1]; // the entry before `b` (the first has none)
    if (a === undefined || a.n + b.n > MAX_ENTRY_COUNT) continue;
    const sameCell = cell(a.f) === cell(b.t);
    const cost = mergeCost(a, b);
    // Ties (e.g. any two single admissions cost 0) go to the merge that moves times least.
    const moved = displacement(a, b);
    const better =
      sameCell !== bestSameCell
        ? sameCell
        : cost < bestCost || (cost === bestCost && moved < bestMoved);
    if (better) {
      best = { i: j - 1, a, b };
      bestCost = cost;
      bestMoved = moved;
      bestSameCell = sameCell;
    }
  }
  if (best === undefined) throw internal("no entries can merge");
  w.entries.splice(best.i, 2, merged(best.a, best.b));
}

/**
 * Moves the anchor up to the last cell boundary at or before `t - period` and
 * drops the entries at or before it. Every entry after the anchor is kept, so
 * a call whose clock is behind (but not before anchor + period) is decided on
 * the whole window (see `windowDecisionTime`).
 */
function prune(p: WindowParams, w: Window, t: number): Window {
  const width = cellWidth(p.period);
  const cells = max(0, floor((t - p.period - w.anchor) / width + 1e-9));
  const anchor = w.anchor + cells * width;
  return { anchor, entries: w.entries.filter((e) => e.t > anchor) };
}

/** Rounds a time up to the anchor's quantum grid (times are never modelled early). */
function onGrid(p: WindowParams, anchor: number, t: number): number {
  const q = quantum(p.period);
  return anchor + ceil((t - anchor) / q - 1e-9) * q;
}

// ---------------------------------------------------------------------------
// Operations on the stored state
// ---------------------------------------------------------------------------

/** The state of a key with no document: empty, anchored at its first call. */
export function emptyWindow(p: WindowParams, now: number): StoredWindow {
  const width = cellWidth(p.period);
  return {
    value: 0,
    ts: now - ceil(p.period / width - 1e-9) * width,
    log: new ArrayBuffer(0),
  };
}

/**
 * The earliest time a call may be decided at: anchor + period, which is at or
 * before every call that advanced the state. A call whose clock is behind that
 * (transactions commit out of timestamp order) counts as made then, so no
 * decision ever needs an entry the state has dropped.
 */
export function windowDecisionTime(p: WindowParams, st: StoredWindow, now: number): number {
  return max(now, st.ts + p.period);
}

/** Brings a state to time `t`: prunes expired entries. */
export function advanceWindow(p: WindowParams, st: StoredWindow, t: number): StoredWindow {
  const w = decode(p, st);
  const next = prune(p, w, t);
  if (next.entries.length === w.entries.length && next.anchor === w.anchor) return st;
  return encode(p, next);
}

/** Admissions that count against a call at `t` (including reservations logged later). */
export function windowCount(p: WindowParams, st: StoredWindow, t: number): number {
  return liveIn(p, decode(p, st), t);
}

/** Admissions logged after `t`: outstanding reservations. */
export function windowReservedAt(p: WindowParams, st: StoredWindow, t: number): number {
  let sum = 0;
  for (const e of decode(p, st).entries) sum += liveAfter(e, t, 0);
  return sum;
}

/** Logs `count` admitted at time `at` (`at` > `t` for a reservation), merging to stay bounded. */
export function logWindow(
  p: WindowParams,
  st: StoredWindow,
  count: number,
  at: number,
): StoredWindow {
  if (count === 0) return st;
  const w = decode(p, st);
  const t = onGrid(p, w.anchor, max(at, w.anchor));
  const entries = [...w.entries];
  let i = entries.length;
  let last = entries[i - 1];
  while (last !== undefined && last.t > t) {
    i--;
    last = entries[i - 1];
  }
  // Only a single-time entry grows in place: more admissions at its last time
  // would break an entry's even spacing.
  if (last !== undefined && last.f === t && last.t === t && last.n + count <= MAX_ENTRY_COUNT) {
    entries[i - 1] = { ...last, n: last.n + count };
  } else {
    entries.splice(i, 0, { f: t, t, n: count, late: 0 });
  }
  const next = { anchor: w.anchor, entries };
  while (!fitsBudget(p.period, next.anchor, next.entries)) mergeOnce(p, next);
  return encode(p, next);
}

/** Removes up to `amount` of the most recent admissions (reservations first). */
export function creditWindow(
  p: WindowParams,
  st: StoredWindow,
  now: number,
  amount: number,
): { state: StoredWindow; credited: number } {
  const w = decode(p, st);
  const entries = [...w.entries];
  let left = amount;
  for (let e = entries.at(-1); left > 0 && e !== undefined; e = entries.at(-1)) {
    if (e.n <= left) {
      left -= e.n;
      entries.pop();
      continue;
    }
    // Dropping the last admissions of an exact run keeps its step (its last
    // time moves back). Another keeps f and t: its modelled times only move
    // later, so `late` still holds.
    const n = e.n - left;
    entries[entries.length - 1] =
      e.late === 0 ? { ...e, n, t: e.f + stepOf(e) * (n - 1) } : { ...e, n };
    left = 0;
  }
  return { state: encode(p, { anchor: w.anchor, entries }), credited: amount - left };
}

/** No admission left: equivalent to no document. */
export function windowIsEmpty(st: StoredWindow): boolean {
  return st.log instanceof ArrayBuffer ? st.log.byteLength === 0 : true;
}
