import { v } from "convex/values";
import type { FixedWindowConfig } from "../model.js";
import { projectFixedWindow } from "../projection.js";
import {
  capacityOption,
  configError,
  debtReserveLimit,
  rateAndPeriod,
  reserveAsDebt,
  tokens,
  valueTsCodec,
} from "./shared.js";
import type { Algorithm, ShardConfig } from "./types.js";
import { ceil, floor, imul, min } from "../../lib/math.js";

/** Stored: `value` tokens left in the window that starts at `ts`. */
export const vFixedWindowState = v.object({ value: v.number(), ts: v.number() });

/** FNV-1a: a stable 32-bit hash, so a key's window alignment is the same after its state is swept. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Start of the fixed window containing `now`. Windows are aligned to
 * `config.start`, or else to an offset in [0, period) derived from the hash of
 * (name, key): spread across keys like the peer's random start, but
 * deterministic, so a swept (idle) key comes back with the same windows.
 */
export function fixedWindowStart(s: ShardConfig, seed: string, now: number): number {
  const origin = s.start ?? floor((hash32(seed) / 2 ** 32) * s.period);
  return origin + floor((now - origin) / s.period) * s.period;
}

/**
 * Fixed window: `value` tokens left in the window that starts at `ts`; each
 * new window adds `rate`, up to `capacity`. Idle state equals no state
 * because the alignment depends on (name, key), not on the stored state.
 */
export const fixedWindow: Algorithm<FixedWindowConfig> = {
  id: "fixed window",
  options: ["rate", "period", "capacity", "start"],
  sizeOption: "capacity",
  wholeUnits: false,
  reportsStored: true,
  ...valueTsCodec("fixed window"),
  shape: rateAndPeriod,
  configure: (config, name, rate) => {
    const { start } = config;
    if (start !== undefined && (typeof start !== "number" || !Number.isFinite(start))) {
      throw configError(
        name,
        `start must be a finite number (ms since epoch), got ${String(start)}`,
        "start",
      );
    }
    return {
      capacity: capacityOption(config, name, rate),
      maxReserved: config.maxReserved,
      start,
    };
  },
  // The peer's getValue reports a fixed window's start: the key's own alignment when none is set.
  reportedConfig: (config, filled, windowStart) =>
    config.start === undefined && windowStart !== undefined
      ? { ...config, ...filled, start: windowStart }
      : { ...config, ...filled },
  // With no state and no `start`, the peer starts the window at random.
  peerProjection: (existing, config, now, count) => {
    const max = config.capacity ?? config.rate;
    const start = config.start ?? now - floor(Math.random() * config.period);
    return projectFixedWindow(
      existing ?? { value: max, ts: start },
      config.rate,
      config.period,
      max,
      now,
      count,
    );
  },
  initial: (s, seed, now) => ({ value: s.capacity, ts: fixedWindowStart(s, seed, now) }),
  advance: (s, state, _seed, t) => {
    const windows = floor((t - state.ts) / s.period);
    if (windows <= 0) return state;
    return {
      value: min(s.capacity, state.value + windows * s.rate),
      ts: state.ts + windows * s.period,
    };
  },
  ...tokens,
  // Full again at the start of the window whose allowances cover what is missing.
  idleGuess: (s, state) => state.ts + ceil((s.capacity - state.value) / s.rate) * s.period,
  reserveLimit: debtReserveLimit,
  reserve: reserveAsDebt,
  windowStart: (s, state, seed, now) =>
    state === null ? fixedWindowStart(s, seed, now) : fixedWindow.advance(s, state, seed, now).ts,
};
