/**
 * The default (approximate) sliding window: a compressed admission log.
 *
 * The exact rule is "at most `rate` admissions in any `period`". An exact log
 * needs one entry per admission; this one keeps at most `MAX_ENTRIES` entries
 * of (first time, last time, count, regular?) and is exact whenever a window
 * holds no more than that many distinct admission times (so always for
 * `rate <= 24`). Above that, neighbouring entries in the same sub-window cell
 * (`period / 16`, cells aligned to the key's first call, not to the clock)
 * merge, choosing the merge that delays modelled expiry least. A merged entry
 * models its first admission at its first time and the others at its last
 * time, unless it is "regular" (evenly spaced, as a steady trickle is), where
 * every position is known. Every modelled time is at or after the true one, so:
 * - it never admits more than the exact log (no over-admission, burst <= rate);
 * - a denied call's `retryAfter` is at most one cell (< period / 16) later
 *   than the exact log's, because an entry never spans more than a cell;
 * - it admits less only when a merged entry's middle admissions expire,
 *   measured in bench/accuracy.ts and test/rateLimits/windowLog.test.ts.
 * Work per call is O(MAX_ENTRIES) whatever the rate.
 *
 * Stored as `{ value, ts, log }`: `value` = admissions logged, `ts` = the
 * anchor (a cell boundary at or before every entry), `log` = one packed number
 * per entry (see `pack`). A state without `log` is the previous two-bucket
 * encoding (`value` in the bucket starting at `ts`, `prev` in the one before),
 * converted on read (see `fromTwoBuckets`).
 */
import { ErrorCode, guardError } from "../lib/errors.js";

/** Most entries a state holds: {value, ts, log} stays <= 256 bytes. */
export const MAX_ENTRIES = 24;
/** Cells per period: an entry never spans more than one cell. */
export const CELLS = 16;
/** Largest count one entry holds (and so the largest per-shard rate). */
export const MAX_ENTRY_COUNT = 2 ** 20 - 1;
/** Reservations may run at most this many periods' worth of `rate` ahead. */
export const MAX_RESERVED_PERIODS = 8;

const OFFSET_BITS = 20;
const SPAN_BITS = 12;
const OFFSET_MAX = 2 ** OFFSET_BITS - 1;
const SPAN_MAX = 2 ** SPAN_BITS - 1;

export type WindowParams = { period: number };
export type StoredWindow = { value: number; ts: number; prev?: number; log?: number[] };

/** One entry: `n` admissions, the first at `f`, the last at `t`. */
type Entry = { f: number; t: number; n: number; regular: boolean };
type Window = { anchor: number; entries: Entry[] };

/** Time resolution: 1 ms up to a period of 65.5 s, else period / 2^16 (times round up). */
export function quantum(period: number): number {
  return Math.max(1, period / 2 ** 16);
}

/** Cell width: a whole number of quanta, at most period / 16. */
export function cellWidth(period: number): number {
  const q = quantum(period);
  return q * Math.max(1, Math.floor(period / CELLS / q));
}

function internal(message: string) {
  return guardError(ErrorCode.INVALID_ARGUMENT, `sliding window state: ${message}`);
}

// ---------------------------------------------------------------------------
// Encoding: one float64 per entry, exact integers below 2^53:
// count (20 bits) | regular (1 bit) | span = t - f in quanta (12 bits) | offset of t from the anchor in quanta (20 bits)
// ---------------------------------------------------------------------------

function pack(p: WindowParams, anchor: number, e: Entry): number {
  const q = quantum(p.period);
  // Rounding moves times later, never earlier: the model stays conservative.
  const offset = Math.ceil((e.t - anchor) / q - 1e-9);
  const exactSpan = Math.floor((e.t - e.f) / q + 1e-9);
  const span = Math.min(SPAN_MAX, exactSpan);
  // A clamped run is no longer evenly spaced at its stored times.
  const regular = e.regular && span === exactSpan;
  if (offset < 0 || offset > OFFSET_MAX) throw internal("entry outside the representable horizon");
  if (e.n > MAX_ENTRY_COUNT) throw internal("entry count too large");
  return ((e.n * 2 + (regular ? 1 : 0)) * 2 ** SPAN_BITS + span) * 2 ** OFFSET_BITS + offset;
}

function unpack(p: WindowParams, anchor: number, x: number): Entry {
  const q = quantum(p.period);
  const offset = x % 2 ** OFFSET_BITS;
  const rest = Math.floor(x / 2 ** OFFSET_BITS);
  const span = rest % 2 ** SPAN_BITS;
  const flags = Math.floor(rest / 2 ** SPAN_BITS);
  const t = anchor + offset * q;
  return { t, f: t - span * q, n: Math.floor(flags / 2), regular: flags % 2 === 1 };
}

function decode(p: WindowParams, st: StoredWindow, now: number): Window {
  if (st.log === undefined) return fromTwoBuckets(p, st, now);
  return { anchor: st.ts, entries: st.log.map((x) => unpack(p, st.ts, x)) };
}

function encode(p: WindowParams, w: Window): StoredWindow {
  let value = 0;
  for (const e of w.entries) value += e.n;
  return { value, ts: w.anchor, log: w.entries.map((e) => pack(p, w.anchor, e)) };
}

/**
 * The previous encoding: `value` admitted in the bucket [ts, ts + period) (it
 * may exceed the rate while reserved), `prev` in the bucket before. Converted
 * without ever admitting more than it would have: `prev` as admitted at the
 * end of its bucket, `value` as admitted at the latest time it can have been.
 */
function fromTwoBuckets(p: WindowParams, st: StoredWindow, now: number): Window {
  const entries: Entry[] = [];
  const prev = Math.ceil(st.prev ?? 0);
  const cur = Math.ceil(st.value);
  const prevAt = st.ts - 1;
  const curAt = Math.max(st.ts, Math.min(now, st.ts + p.period - 1));
  if (prev > 0) entries.push({ f: prevAt, t: prevAt, n: prev, regular: false });
  if (cur > 0) entries.push({ f: curAt, t: curAt, n: cur, regular: false });
  return { anchor: prevAt, entries: splitLarge(entries) };
}

/** Old states may hold more than one entry's count: split (same time, still exact). */
function splitLarge(entries: Entry[]): Entry[] {
  const out: Entry[] = [];
  for (const e of entries) {
    let left = e.n;
    while (left > 0) {
      const n = Math.min(left, MAX_ENTRY_COUNT);
      out.push({ ...e, n });
      left -= n;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The model: which admissions are still in the window (t - period, t].
// ---------------------------------------------------------------------------

/** Admissions of `e` at times after `x`, as modelled (never fewer than the truth). */
function liveAfter(e: Entry, x: number): number {
  if (e.t <= x) return 0;
  if (e.f > x) return e.n;
  // f <= x < t, so n >= 2.
  if (e.regular) {
    const step = (e.t - e.f) / (e.n - 1);
    return e.n - 1 - Math.floor((x - e.f) / step + 1e-9);
  }
  return e.n - 1;
}

function liveIn(p: WindowParams, w: Window, t: number): number {
  let live = 0;
  for (const e of w.entries) live += liveAfter(e, t - p.period);
  return live;
}

/** Sum of modelled admission times: what a merge may only increase. */
function mass(e: Entry): number {
  if (e.regular || e.n <= 2 || e.f === e.t) return (e.n * (e.f + e.t)) / 2;
  return e.f + (e.n - 1) * e.t;
}

function merged(a: Entry, b: Entry): Entry {
  const n = a.n + b.n;
  const regular = n >= 3 && isRegularMerge(a, b);
  return { f: a.f, t: b.t, n, regular };
}

/** Are a then b one evenly spaced run? (Pairs and singletons are trivially regular.) */
function isRegularMerge(a: Entry, b: Entry): boolean {
  const aRegular = a.n <= 2 || a.regular;
  const bRegular = b.n <= 2 || b.regular;
  if (!aRegular || !bRegular || b.f <= a.t) return false;
  const gap = b.f - a.t;
  const steps = [a, b].filter((e) => e.n >= 2).map((e) => (e.t - e.f) / (e.n - 1));
  return steps.every((s) => Math.abs(s - gap) < 1e-6);
}

/** Merges the adjacent pair that adds the least modelled delay, preferring pairs in one cell. */
function mergeOnce(p: WindowParams, w: Window): void {
  const width = cellWidth(p.period);
  const cell = (x: number) => Math.floor((x - w.anchor) / width + 1e-9);
  let best = -1;
  let bestCost = Infinity;
  let bestSameCell = false;
  for (let i = 0; i + 1 < w.entries.length; i++) {
    const a = w.entries[i]!;
    const b = w.entries[i + 1]!;
    if (a.n + b.n > MAX_ENTRY_COUNT) continue;
    const sameCell = cell(a.f) === cell(b.t);
    const cost = mass(merged(a, b)) - mass(a) - mass(b);
    if ((sameCell && !bestSameCell) || (sameCell === bestSameCell && cost < bestCost)) {
      best = i;
      bestCost = cost;
      bestSameCell = sameCell;
    }
  }
  if (best < 0) throw internal("no entries can merge");
  const [a, b] = [w.entries[best]!, w.entries[best + 1]!];
  w.entries.splice(best, 2, merged(a, b));
}

/** Drops entries out of the window at `t` and moves the anchor up to the oldest kept cell. */
function prune(p: WindowParams, w: Window, t: number): Window {
  const entries = w.entries.filter((e) => e.t > t - p.period);
  const width = cellWidth(p.period);
  const oldest = entries.length > 0 ? Math.min(entries[0]!.f, t) : t;
  const cells = Math.max(0, Math.floor((oldest - w.anchor) / width + 1e-9));
  return { anchor: w.anchor + cells * width, entries };
}

/** Rounds a time up to the anchor's quantum grid (times are never modelled early). */
function onGrid(p: WindowParams, anchor: number, t: number): number {
  const q = quantum(p.period);
  return anchor + Math.ceil((t - anchor) / q - 1e-9) * q;
}

// ---------------------------------------------------------------------------
// Operations on the stored state
// ---------------------------------------------------------------------------

/** The state of a key with no document: empty, anchored at its first call. */
export function emptyWindow(now: number): StoredWindow {
  return { value: 0, ts: now, log: [] };
}

/** Brings a state to time `t`: converts the old encoding, prunes expired entries. */
export function advanceWindow(p: WindowParams, st: StoredWindow, t: number): StoredWindow {
  if (st.log !== undefined && st.log.length === 0) return t > st.ts ? { ...st, ts: t } : st;
  const w = decode(p, st, t);
  const next = prune(p, w, t);
  if (st.log !== undefined && next.entries.length === w.entries.length && next.anchor === w.anchor)
    return st;
  return encode(p, next);
}

/** Admissions that count against a call at `t` (including reservations logged later). */
export function windowCount(p: WindowParams, st: StoredWindow, t: number): number {
  return liveIn(p, decode(p, st, t), t);
}

/** Admissions logged after `t`: outstanding reservations. */
export function windowReservedAt(p: WindowParams, st: StoredWindow, t: number): number {
  let sum = 0;
  for (const e of decode(p, st, t).entries) sum += liveAfter(e, t);
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
  const w = decode(p, st, at);
  const t = onGrid(p, w.anchor, Math.max(at, w.anchor));
  const entries = [...w.entries];
  let i = entries.length;
  while (i > 0 && entries[i - 1]!.t > t) i--;
  const last = entries[i - 1];
  if (last !== undefined && last.t === t && last.n + count <= MAX_ENTRY_COUNT) {
    const n = last.n + count;
    entries[i - 1] = { ...last, n, regular: last.regular && last.f === last.t };
  } else {
    entries.splice(i, 0, { f: t, t, n: count, regular: false });
  }
  const next = { anchor: w.anchor, entries };
  while (next.entries.length > MAX_ENTRIES) mergeOnce(p, next);
  return encode(p, next);
}

/** Removes up to `amount` of the most recent admissions (reservations first). */
export function creditWindow(
  p: WindowParams,
  st: StoredWindow,
  now: number,
  amount: number,
): { state: StoredWindow; credited: number } {
  const w = decode(p, st, now);
  const entries = [...w.entries];
  let left = amount;
  while (left > 0 && entries.length > 0) {
    const e = entries[entries.length - 1]!;
    if (e.n <= left) {
      left -= e.n;
      entries.pop();
      continue;
    }
    // Dropping the last admissions of a run keeps its first time; a regular
    // run keeps its step, so its last time moves back.
    const n = e.n - left;
    const t = e.regular || e.n <= 2 ? e.f + ((e.t - e.f) / (e.n - 1)) * (n - 1) : e.t;
    entries[entries.length - 1] = { ...e, n, t: n === 1 ? e.f : t };
    left = 0;
  }
  return { state: encode(p, { anchor: w.anchor, entries }), credited: amount - left };
}

/** No admission left: equivalent to no document. */
export function windowIsEmpty(st: StoredWindow): boolean {
  return st.log !== undefined ? st.log.length === 0 : st.value <= 0 && (st.prev ?? 0) <= 0;
}
