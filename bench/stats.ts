import type { Metrics } from "./harness.js";

export type MetricStats = { mean: Metrics; max: Metrics; samples: number };

const KEYS = [
  "documentsRead",
  "documentsWritten",
  "bytesRead",
  "bytesWritten",
  "databaseQueries",
] as const;

export function summarize(samples: Metrics[]): MetricStats {
  const mean = {} as Metrics;
  const max = {} as Metrics;
  for (const k of KEYS) {
    mean[k] = round(samples.reduce((s, m) => s + m[k], 0) / Math.max(1, samples.length), 2);
    max[k] = samples.reduce((s, m) => Math.max(s, m[k]), 0);
  }
  return { mean, max, samples: samples.length };
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  // An empty list has no median: NaN, as the arithmetic on missing entries gave.
  const hi = s[m] ?? NaN;
  return s.length % 2 ? hi : ((s[m - 1] ?? NaN) + hi) / 2;
}

export function pct(part: number, whole: number, digits = 2): number {
  return whole === 0 ? 0 : round((100 * part) / whole, digits);
}

/** Deterministic PRNG (mulberry32) so traces are the same on every run. */
export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
