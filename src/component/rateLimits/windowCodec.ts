/**
 * How the default sliding window's entries are stored (the model is in
 * ./windowLog.ts).
 *
 * Encoding: `log` is bytes, one run of unsigned LEB128 varints per
 * entry, in order of last time:
 *   1. `t` - the previous entry's `t` (the first: `t` - anchor), in quanta;
 *   2. the span `t - f`, in quanta;
 *   3. `n * 16 + late`, `late` in 16ths of the span, rounded up (0..15).
 * A single admission costs at most 5 bytes, so a state of `MAX_ENTRIES` of
 * them fits; merged entries cost up to 8, and merging continues until the
 * log fits `MAX_LOG_BYTES` (see `fitsBudget`).
 */
import { ErrorCode, guardError } from "../lib/errors.js";
import { ceil, floor, max, min } from "../lib/math.js";

/** Most entries a state holds. */
export const MAX_ENTRIES = 40;
/**
 * Most bytes of `log`: a stored `{ value, ts, log }` stays <= 256 bytes
 * (35 bytes of field names, two numbers and framing, plus the bytes).
 */
export const MAX_LOG_BYTES = 221;
/** Largest count one entry holds (and so the largest per-shard rate). */
export const MAX_ENTRY_COUNT = 2 ** 17 - 1;
/** Steps of the lateness bound, in 16ths of an entry's span. */
const LATE_STEPS = 15;

/**
 * One entry: `n` admissions, the first at `f`, the last at `t`, modelled as
 * evenly spaced. `late` bounds how much later than its modelled time any of
 * them was admitted (0: exact, as for a single time or a steady trickle).
 */
export type Entry = { f: number; t: number; n: number; late: number };

/** Time resolution: 1 ms up to a period of 65.5 s, else period / 2^16 (times round up). */
export function quantum(period: number): number {
  return max(1, period / 2 ** 16);
}

/** An entry this codec cannot write, or entries out of order: a bug of ours, INTERNAL. */
export function internal(message: string) {
  return guardError(ErrorCode.INTERNAL, `sliding window log: ${message}`);
}

/** Whole quanta from the anchor to `t`, rounded up: times only ever move later. */
function quantaFrom(anchor: number, t: number, q: number): number {
  return ceil((t - anchor) / q - 1e-9);
}

/** The three integers stored for an entry, given its `t` in quanta from the anchor. */
function fields(e: Entry, q: number): { span: number; head: number } {
  if (e.n > MAX_ENTRY_COUNT) throw internal("entry count too large");
  // Rounding `f` up moves every modelled time later, so `late` still holds.
  const span = floor((e.t - e.f) / q + 1e-9);
  // No admission is later than t, nor a modelled time earlier than f: late <= span.
  const late = span === 0 ? 0 : ceil((e.late / (span * q)) * LATE_STEPS - 1e-9);
  return { span, head: e.n * (LATE_STEPS + 1) + min(LATE_STEPS, max(0, late)) };
}

function writeVarint(out: number[], x: number): void {
  let rest = x;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = floor(rest / 128);
  }
  out.push(rest);
}

/** Does a state of these entries fit the size budget? */
export function fitsBudget(period: number, anchor: number, entries: Entry[]): boolean {
  return (
    entries.length <= MAX_ENTRIES && encodeLog(period, anchor, entries).byteLength <= MAX_LOG_BYTES
  );
}

export function encodeLog(period: number, anchor: number, entries: Entry[]): ArrayBuffer {
  const q = quantum(period);
  const out: number[] = [];
  let prev = 0;
  for (const e of entries) {
    const at = quantaFrom(anchor, e.t, q);
    if (at < prev) throw internal("entries out of order");
    const { span, head } = fields(e, q);
    writeVarint(out, at - prev);
    writeVarint(out, span);
    writeVarint(out, head);
    prev = at;
  }
  return new Uint8Array(out).buffer;
}

function entryOf(anchor: number, q: number, at: number, span: number, head: number): Entry {
  const t = anchor + at * q;
  const late = ((head % (LATE_STEPS + 1)) * span * q) / LATE_STEPS;
  return { t, f: t - span * q, n: floor(head / (LATE_STEPS + 1)), late };
}

export function decodeLog(period: number, anchor: number, log: ArrayBuffer): Entry[] {
  const q = quantum(period);
  const bytes = new Uint8Array(log);
  let i = 0;
  const read = () => {
    let x = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[i++];
      if (b === undefined || scale > 2 ** 49)
        throw guardError(ErrorCode.CORRUPT_STATE, "stored sliding window log is truncated");
      x += (b % 128) * scale;
      if (b < 128) return x;
      scale *= 128;
    }
  };
  const entries: Entry[] = [];
  let at = 0;
  while (i < bytes.length) {
    at += read();
    const span = read();
    entries.push(entryOf(anchor, q, at, span, read()));
  }
  return entries;
}
