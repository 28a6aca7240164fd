/**
 * The rate-limit algorithms, one entry each. Everything outside this folder
 * (config checks, shard reads, admission, reservations, credit, the idle
 * sweep, `getValue`, the React hook's projection) works through the
 * `Algorithm` interface and never tests a kind.
 *
 * Adding an algorithm:
 * 1. Write `./myAlgorithm.ts` exporting an `Algorithm` (see ./types.ts): its
 *    `configure` checks its own options; `initial`, `advance`, `remaining`,
 *    `take`, `reserve`, `idle`, `credit` define it over the stored
 *    `{ value, ts, prev?, log? }` (add a field to `vRateLimitState` and the
 *    table only if it needs one). ./tokenBucket.ts is the shortest example.
 * 2. Add its config validator to `vRateLimitConfig` in ../model.ts (a new
 *    `kind`, or a new option of an existing kind that `selects` tests).
 * 3. List it in `ALGORITHMS` below.
 * test/rateLimits/property.test.ts then runs it against the reference model
 * once its config is added to `configArb`.
 */
import type { RateLimitConfig } from "../model.js";
import { exactSlidingWindow } from "./exactSlidingWindow.js";
import { fixedWindow } from "./fixedWindow.js";
import { quota } from "./quota.js";
import { slidingWindow } from "./slidingWindow.js";
import { tokenBucket } from "./tokenBucket.js";
import type { Algorithm } from "./types.js";

export type { Algorithm, ShardConfig } from "./types.js";

export const ALGORITHMS: readonly Algorithm[] = [
  tokenBucket,
  fixedWindow,
  slidingWindow,
  exactSlidingWindow,
  quota,
];

/** Every config `kind`, for messages. */
export const KINDS: readonly string[] = [...new Set(ALGORITHMS.map((a) => a.kind))];

/** The algorithm that serves `config`, or undefined for an unknown kind. */
export function algorithmFor(config: RateLimitConfig): Algorithm | undefined {
  return ALGORITHMS.find((a) => a.kind === config.kind && (a.selects?.(config) ?? true));
}
