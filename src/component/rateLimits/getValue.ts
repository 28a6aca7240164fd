/**
 * getValue: what a UI or the peer's hook shows for one key, read from up to
 * `sampleShards` shard documents (plus pending rows in asynchronous mode).
 * For an asynchronous limit `value`, `ts` and `state` describe the folded
 * state, as the peer's getValue does (its tests expect a value that queued
 * consumption has not changed yet), and `unfolded` the consumption recorded
 * but not folded yet: what is really left is `value - unfolded`, which the
 * React hook shows. `blocked` is set while the key is blocked.
 */
import type { QueryCtx } from "../_generated/server.js";
import { assertIntInRange } from "../lib/validate.js";
import { readPending, unfoldedCount } from "./async.js";
import { activeBlock } from "./blocks.js";
import { normalizeConfig, shardConfig, type NormalizedConfig } from "./config.js";
import { remaining } from "./math.js";
import type { GetValueResult, RateLimitConfig, RateLimitState } from "./model.js";
import { publicTarget, randomInt, readShard, seedOf, toState } from "./shards.js";

/** Samples `sampleShards` (default 1) random shards and describes the fullest. */
export async function getRateLimitValue(
  ctx: QueryCtx,
  args: { name: string; key?: string; sampleShards?: number; config: RateLimitConfig },
  now: number,
): Promise<GetValueResult> {
  const { name, key } = publicTarget(args);
  const config = normalizeConfig(args.config, name);
  const samples = args.sampleShards ?? 1;
  assertIntInRange(samples, "sampleShards", 1, config.shards);
  const s = shardConfig(config);
  const alg = config.algorithm;
  const seed = seedOf(name, key);
  const pool = Array.from({ length: config.shards }, (_, i) => i);
  let best: { shard: number; state: RateLimitState | null; value: number } | null = null;
  let unfolded = 0;
  let blocked: GetValueResult["blocked"];
  for (let i = 0; i < samples; i++) {
    const j = i + randomInt(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    const shard = pool[i]!;
    const doc = await readShard(ctx.db, name, key, shard);
    // A block is stored on every shard document, so any sampled one shows it.
    blocked = activeBlock(doc, now) ?? blocked;
    const state = toState(doc);
    if (config.async) unfolded = unfoldedCount(await readPending(ctx.db, name, key));
    // A shard never written reports the whole capacity, as the peer's getValue does.
    const value = state === null ? config.capacity : remaining(s, state, seed, now);
    if (best === null || value > best.value) best = { shard, state, value };
  }
  const { state } = best!;
  const windowStart = alg.windowStart?.(s, state, seed, now);
  // Token-based kinds report the stored `{ value, ts }` as the peer does
  // (`calculateRateLimit` projects it); sliding windows, what is left now.
  const stored = state !== null && alg.sizeOption === "capacity";
  return {
    value: stored ? state.value : best!.value,
    ts: stored ? state.ts : now,
    ...(windowStart !== undefined ? { windowStart } : {}),
    ...(alg.describe ? alg.describe(s, state, seed, now) : {}),
    shard: best!.shard,
    shards: config.shards,
    capacity: alg.capacity(s),
    config: withDefaults(args.config, config, windowStart),
    state: state === null ? null : stripUndefined(state),
    now,
    ...(config.async ? { unfolded } : {}),
    ...(blocked ? { blocked } : {}),
  };
}

/** The config with the defaults the peer's getValue fills in: capacity, shards, a fixed window's start. */
function withDefaults(
  config: RateLimitConfig,
  normalized: NormalizedConfig,
  windowStart: number | undefined,
): RateLimitConfig {
  const shards = normalized.shards;
  if (config.kind !== "token bucket" && config.kind !== "fixed window")
    return { ...config, shards };
  const filled = { ...config, shards, capacity: normalized.capacity };
  if (config.kind === "fixed window" && config.start === undefined && windowStart !== undefined) {
    return { ...filled, kind: "fixed window", start: windowStart };
  }
  return filled;
}

function stripUndefined(st: RateLimitState): RateLimitState {
  const out: RateLimitState = { value: st.value, ts: st.ts };
  if (st.prev !== undefined) out.prev = st.prev;
  if (st.log !== undefined) out.log = st.log;
  return out;
}
