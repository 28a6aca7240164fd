import { ErrorCode, guardError } from "../lib/errors.js";
import { DAY } from "../lib/time.js";
import { assertString } from "../lib/validate.js";
import {
  ALL_OPTIONS,
  KINDS,
  bind,
  type Bound,
  type Engine,
  type ShardConfig,
} from "./algorithms/index.js";
import { configError } from "./algorithms/shared.js";
import type { RateLimitConfig, RateLimitConfigArg } from "./model.js";
import { EPS, round2 } from "./numeric.js";
import { ceil, max } from "../lib/math.js";

/** Longest limit name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 256;
/**
 * Names starting with this belong to convex-guard's own limits (confirmation
 * codes' issue and failure budgets). Hosts cannot use them, so no host limit,
 * `reset` or `credit` can touch the budgets that bound code guessing.
 */
export const RESERVED_NAME_PREFIX = "guard:";
/** Most shards a limit may have (a reset deletes them all in one bounded query). */
export const MAX_SHARDS = 1024;
/*
 * Sane bounds of a config's numbers. Outside them the arithmetic stops
 * meaning what the config says: a period under the clock's 1 ms resolution
 * refills a whole rate between two calls in the same millisecond (a period of
 * 1e-300 ms admits everything), an amount past 2^53 − 1 loses whole tokens to
 * rounding, and a rate under 1/1000 of a token per period is lost in the
 * comparison slack. Checked for every config (INVALID_CONFIG naming the field).
 */
/** Shortest period (ms): the clock's resolution. */
export const MIN_PERIOD = 1;
/** Longest period (ms): ten years of 365 days. */
export const MAX_PERIOD = 3650 * DAY;
/** Smallest rate, capacity or quota limit (tokens). */
export const MIN_AMOUNT = 0.001;
/** Largest rate, capacity or quota limit (tokens): whole tokens stay exact up to it. */
export const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

/** Refuses `value` of `field` outside [min, max] (INVALID_CONFIG naming the field). */
function assertBounded(name: string, field: string, value: number, min: number, max: number) {
  if (value < min || value > max) {
    throw configError(name, `${field} must be from ${min} to ${max}, got ${value}`, field);
  }
}

/** Shards below this read only one shard per call: reading both of two would touch every shard. */
export const MIN_CHOOSE_TWO = 3;

/** Refuses a name in the reserved "guard:" namespace (INVALID_ARGUMENT). */
export function assertNotReserved(name: string): void {
  if (name.startsWith(RESERVED_NAME_PREFIX)) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `Rate limit name "${name}" is reserved: names starting with "${RESERVED_NAME_PREFIX}" belong to convex-guard`,
      { name },
    );
  }
}

/** A name a host may give a limit: non-empty, at most 256 bytes, not reserved. */
export function assertLimitName(name: unknown): asserts name is string {
  assertString(name, "name", MAX_NAME_BYTES);
  assertNotReserved(name);
}

/** A checked config with defaults applied. Numbers are for the whole limit (all shards). */
export type NormalizedConfig = {
  algorithm: Engine;
  /** The config as given, now known to be a valid `RateLimitConfig` (asynchronous rows store it). */
  given: RateLimitConfig;
  rate: number;
  period: number;
  capacity: number;
  maxReserved: number | undefined;
  shards: number;
  start: number | undefined;
  calendar?: ShardConfig["calendar"];
  /** `applyUpdates: "asynchronously"`: decided on a stale snapshot, consumption folded later. */
  async: boolean;
  /** `stats: true`: calls are counted for `stats` (see ./stats.ts). */
  stats: boolean;
  /** The config as `getValue` reports it, with the defaults the peer's getValue fills in. */
  reported(windowStart: number | undefined): RateLimitConfig;
};

/** Fields every kind has; each algorithm lists the others it accepts. */
const COMMON_FIELDS = new Set(["kind", "maxReserved", "shards", "applyUpdates", "stats"]);

/** Rejects a field the config's algorithm does not have, naming it. */
function assertKnownFields(config: RateLimitConfigArg, algorithm: Bound, name: string) {
  for (const [field, value] of Object.entries(config)) {
    // An explicit null is never "the default" (a token bucket's `start: null`
    // is the one null a config takes, for @convex-dev/rate-limiter configs).
    if (value === null && !(field === "start" && config.kind === "token bucket")) {
      throw configError(name, `${field} must not be null: omit it for the default`, field);
    }
    if (value === undefined || COMMON_FIELDS.has(field) || algorithm.options.includes(field)) {
      continue;
    }
    throw configError(
      name,
      ALL_OPTIONS.has(field)
        ? `${field} is not an option of a ${config.kind} limit`
        : `unknown field "${field}" in a ${config.kind} config`,
      field,
    );
  }
}

/**
 * Checks a config completely (shape, every field's kind and value) and applies
 * defaults. Throws INVALID_CONFIG naming the field. The client runs it on every
 * config it is given, so a bad config fails at construction, before any call.
 *
 * A config used in a call is checked once per isolate: hosts pass the same
 * few configs on every call, and the result depends on the config's values
 * only (`name` only names it in errors). The result is frozen and shared.
 */
export function normalizeConfig(
  config: RateLimitConfigArg,
  name = "limit",
  /** False for a config only declared (not yet used): see the sharded-async check below. */
  used = true,
): NormalizedConfig {
  const key = used ? valueKey(config) : null;
  const known = key === null ? undefined : checked.get(key);
  if (known !== undefined) return known;
  const normalized = checkConfig(config, name, used);
  if (key === null) return normalized;
  if (checked.size >= MAX_CHECKED) checked.clear();
  checked.set(key, Object.freeze(normalized));
  return normalized;
}

/** Configs that passed `checkConfig` in a call, by `valueKey`. */
const checked = new Map<string, NormalizedConfig>();
/** More distinct configs than this start the map afresh (a host has a handful). */
const MAX_CHECKED = 256;

/**
 * A key equal for two configs exactly when they hold the same values: the
 * JSON of a plain object of strings, booleans, null and finite numbers (not
 * -0). Null for anything else (never remembered), whose JSON could equal a
 * different config's: NaN, ±Infinity and -0 print as null or 0, and
 * functions, symbols or a prototype's fields do not print at all.
 */
function valueKey(config: unknown): string | null {
  if (typeof config !== "object" || config === null) return null;
  const proto: unknown = Object.getPrototypeOf(config);
  if (proto !== Object.prototype && proto !== null) return null;
  const fields = config as Record<string, unknown>;
  for (const k in fields) {
    const v = fields[k];
    const plain =
      typeof v === "number"
        ? Number.isFinite(v) && !Object.is(v, -0)
        : v === null || v === undefined || typeof v === "string" || typeof v === "boolean";
    if (!plain) return null;
  }
  return JSON.stringify(config);
}

function checkConfig(config: RateLimitConfigArg, name: string, used: boolean): NormalizedConfig {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw configError(name, "config must be an object");
  }
  const algorithm = bind(config);
  if (algorithm === undefined) {
    const kinds = KINDS.map((k) => `"${k}"`).join(", ");
    throw configError(name, `kind must be one of ${kinds}, got ${String(config.kind)}`, "kind");
  }
  assertKnownFields(config, algorithm, name);
  const { rate, period } = algorithm.shape(name);
  // A quota's rate and period come from its `limit` and `per`: name the field the host wrote.
  assertBounded(name, config.kind === "quota" ? "limit" : "rate", rate, MIN_AMOUNT, MAX_AMOUNT);
  assertBounded(name, "period", period, MIN_PERIOD, MAX_PERIOD);
  const maxReserved = config.maxReserved;
  if (
    maxReserved !== undefined &&
    (typeof maxReserved !== "number" || !Number.isFinite(maxReserved) || maxReserved < 0)
  ) {
    throw configError(
      name,
      `maxReserved must be a finite number of at least 0, got ${String(maxReserved)}`,
      "maxReserved",
    );
  }
  const shards = config.shards ?? 1;
  if (
    typeof shards !== "number" ||
    !Number.isInteger(shards) ||
    shards < 1 ||
    shards > MAX_SHARDS
  ) {
    throw configError(
      name,
      `shards must be an integer from 1 to ${MAX_SHARDS}, got ${String(shards)}`,
      "shards",
    );
  }
  const applyUpdates = config.applyUpdates ?? "transactionally";
  if (applyUpdates !== "transactionally" && applyUpdates !== "asynchronously") {
    throw configError(
      name,
      `applyUpdates must be "transactionally" or "asynchronously", got ${String(applyUpdates)}`,
      "applyUpdates",
    );
  }
  const async = applyUpdates === "asynchronously";
  // Refused when used, not when declared: `@convex-dev/rate-limiter` declares
  // such limits in its own tests and refuses them at the call (its types
  // already reject them).
  if (used && async && config.shards !== undefined && config.shards !== 1) {
    throw configError(
      name,
      "an asynchronous limit can't be sharded: it never conflicts, so it needs no shards",
      "shards",
    );
  }
  if (config.stats !== undefined && typeof config.stats !== "boolean") {
    throw configError(name, `stats must be true or false, got ${String(config.stats)}`, "stats");
  }
  const options = algorithm.configure(name, rate);
  assertBounded(name, "capacity", options.capacity, MIN_AMOUNT, MAX_AMOUNT);
  return {
    algorithm: algorithm.engine,
    given: algorithm.config,
    rate,
    period,
    capacity: options.capacity,
    maxReserved: options.maxReserved,
    shards,
    start: options.start,
    ...(options.calendar ? { calendar: options.calendar } : {}),
    async,
    stats: config.stats === true,
    reported: (windowStart) =>
      algorithm.reportedConfig({ shards, capacity: options.capacity }, windowStart),
  };
}

/** One shard's share of the limit. The shares add up to the whole, so the total never exceeds the rate. */
export function shardConfig(c: NormalizedConfig): ShardConfig {
  const n = c.shards;
  return {
    algorithm: c.algorithm,
    rate: c.rate / n,
    period: c.period,
    capacity: c.capacity / n,
    maxReserved: c.maxReserved !== undefined ? c.maxReserved / n : undefined,
    start: c.start,
    ...(c.calendar ? { calendar: c.calendar } : {}),
  };
}

/** A count is a non-negative safe integer (tokens are whole units). */
export function assertCount(count: unknown, name = "limit"): asserts count is number {
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `count must be a non-negative integer, got ${String(count)}`,
      { name },
    );
  }
}

/** Largest count one call can ever take: what the shards it reads hold, or one shard's reservation bound. */
function maxCount(c: NormalizedConfig, reserve: boolean): number {
  const s = shardConfig(c);
  const fits = c.algorithm.capacity(s) * (c.shards >= MIN_CHOOSE_TWO ? 2 : 1);
  return reserve ? max(fits, c.algorithm.reserveLimit(s)) : fits;
}

/**
 * `count` if it is a valid count that some state could admit (see
 * `maxCount`); throws otherwise, with a message saying what would fit.
 */
export function admissibleCount(
  c: NormalizedConfig,
  count: unknown,
  reserve: boolean,
  name = "limit",
): number {
  assertCount(count, name);
  const limit = maxCount(c, reserve);
  if (count <= limit + EPS) return count;
  throw guardError(ErrorCode.TOO_LARGE, tooLargeMessage(name, c, count, limit, reserve), {
    name,
    count,
    max: round2(limit),
  });
}

function tooLargeMessage(
  name: string,
  c: NormalizedConfig,
  count: number,
  limit: number,
  reserve: boolean,
): string {
  const head = `Rate limit "${name}": count ${count} can never be admitted; one call can take at most ${round2(limit)}`;
  const option = c.algorithm.sizeOption;
  if (c.shards === 1)
    return `${head}. Raise the ${option} to at least ${count}${reserveHint(c, count, reserve)}.`;
  // The most shards (fewer than now) with which it would fit.
  let fewer = 0;
  for (let n = c.shards - 1; n >= 1 && fewer === 0; n--) {
    if (count <= maxCount({ ...c, shards: n }, reserve) + EPS) fewer = n;
  }
  const reads = c.shards >= MIN_CHOOSE_TWO ? 2 : 1;
  // Whole-unit algorithms admit whole units per shard, so each shard needs ceil(count / reads).
  const needed = c.algorithm.wholeUnits
    ? c.shards * ceil(count / reads)
    : ceil((count * c.shards) / reads);
  const hint =
    fewer > 0 ? `use at most ${fewer} shard${fewer === 1 ? "" : "s"}` : "use fewer shards";
  return `${head} (${option} ${round2(c.capacity)} over ${c.shards} shards; a call reads ${reads}). To fit it, ${hint}, or raise the ${option} to ${needed} with ${c.shards} shards.`;
}

/** Suggests reserving, or a larger maxReserved, only where that would hold `count`. */
function reserveHint(c: NormalizedConfig, count: number, reserve: boolean): string {
  if (!reserve) return count <= maxCount(c, true) + EPS ? ", or pass reserve: true" : "";
  if (c.maxReserved === undefined) return "";
  if (count > maxCount({ ...c, maxReserved: Infinity }, true) + EPS) return "";
  return `, or raise maxReserved to at least ${ceil(count - c.capacity)}`;
}
