import { ErrorCode, guardError } from "../../lib/errors.js";
import type { RateLimitState } from "../model.js";
import { EPS, firstTime } from "../numeric.js";
import type { AlgorithmId, Engine, ShardConfig } from "./types.js";
import { max, min } from "../../lib/math.js";

/** INVALID_CONFIG for limit `name`, naming the offending field when there is one. */
export function configError(name: string, message: string, field?: string) {
  return guardError(
    ErrorCode.INVALID_CONFIG,
    `Rate limit "${name}": ${message}`,
    field === undefined ? { name } : { name, field },
  );
}

/** A finite number > 0, else INVALID_CONFIG naming `field`. */
export function assertPositiveOption(name: string, field: string, x: unknown): number {
  if (typeof x !== "number" || !Number.isFinite(x) || x <= 0) {
    throw configError(
      name,
      `${field} must be a finite number greater than 0, got ${String(x)}`,
      field,
    );
  }
  return x;
}

/** Tokens available at `t` from any stored state. */
export function remainingFrom(
  s: ShardConfig,
  state: RateLimitState,
  seed: string,
  t: number,
): number {
  const alg = s.algorithm;
  return alg.remaining(s, alg.advance(s, state, seed, t), t);
}

/** Most a debt-style reservation may take: capacity plus maxReserved. */
export function debtReserveLimit(s: ShardConfig): number {
  return s.maxReserved === undefined ? Infinity : s.capacity + s.maxReserved;
}

/**
 * Reserving as debt: take the tokens even though the remaining goes below 0
 * (at most `maxReserved` below); the work may run once it is back at 0.
 */
export const reserveAsDebt: Engine["reserve"] = (s, state, seed, t, count) => {
  const alg = s.algorithm;
  if (s.maxReserved !== undefined && count - alg.remaining(s, state, t) > s.maxReserved + EPS) {
    return null;
  }
  const next = alg.take(s, state, count, t);
  if (alg.remaining(s, next, t) + EPS >= 0) return { state: next, payAt: undefined };
  const wait = firstTime(t, (u) => remainingFrom(s, next, seed, u) + EPS >= 0);
  return { state: next, payAt: t + wait };
};

/** For algorithms whose `value` is the tokens left: a bucket or a window's allowance. */
export const tokens = {
  remaining: (_s: ShardConfig, state: RateLimitState) => state.value,
  capacity: (s: ShardConfig) => s.capacity,
  take: (_s: ShardConfig, state: RateLimitState, count: number): RateLimitState =>
    count === 0 ? state : { ...state, value: state.value - count },
  idle: (s: ShardConfig, state: RateLimitState) => state.value + EPS >= s.capacity,
  credit: (s: ShardConfig, state: RateLimitState, _t: number, amount: number) => {
    const credited = max(0, min(amount, s.capacity - state.value));
    return { state: { ...state, value: state.value + credited }, credited };
  },
};

/** `capacity` option (default: rate) of the token-based kinds. */
export function capacityOption(config: { capacity?: number }, name: string, rate: number): number {
  return config.capacity === undefined
    ? rate
    : assertPositiveOption(name, "capacity", config.capacity);
}

/** `rate` and `period` of the kinds that have those fields. */
export function rateAndPeriod(config: { rate: unknown; period: unknown }, name: string) {
  return {
    rate: assertPositiveOption(name, "rate", config.rate),
    period: assertPositiveOption(name, "period", config.period),
  };
}

/**
 * CORRUPT_STATE: a stored state this algorithm cannot have written (found in
 * the database, so the caller's input is not at fault).
 */
export function corruptState(what: string, detail: string) {
  return guardError(ErrorCode.CORRUPT_STATE, `rate limit state (${what}): ${detail}`);
}

/** A stored number that must be there and be finite. */
export function finite(what: string, field: string, x: number | undefined): number {
  if (x === undefined || !Number.isFinite(x)) {
    throw corruptState(what, `${field} is not a finite number`);
  }
  return x;
}

/**
 * The codec of a `{ value, ts }` state (token buckets, fixed windows and
 * quotas store the same two numbers), tagged `alg`: `encode` writes exactly
 * those fields, `decode` reads only a state tagged `alg` (another
 * algorithm's reads as none) and refuses a missing or non-finite number as
 * CORRUPT_STATE.
 */
export function valueTsCodec(alg: AlgorithmId): Pick<Engine, "encode" | "decode"> {
  return {
    encode: ({ value, ts }) => ({ alg, value, ts }),
    decode: (stored) =>
      stored.alg !== alg
        ? null
        : { value: finite(alg, "value", stored.value), ts: finite(alg, "ts", stored.ts) },
  };
}
