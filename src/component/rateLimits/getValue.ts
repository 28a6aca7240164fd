/**
 * getValue: what a UI or the peer's hook shows for one key, read from up to
 * `sampleShards` shard documents (plus pending rows in asynchronous mode).
 * It asks the algorithm what to report (`reportsStored`, `windowStart`,
 * `describe`, the filled-in config); it never tests a kind. For an
 * asynchronous limit `value`, `ts` and `state` describe the folded state, as
 * the peer's getValue does, and `unfolded` the consumption recorded but not
 * folded yet: what is really left is `value - unfolded`, which the React hook
 * shows. `blocked` is set while the key is blocked.
 */
import type { QueryCtx } from "../_generated/server.js";
import { assertIntInRange } from "../lib/validate.js";
import { readPending } from "./async.js";
import { normalizeConfig, shardConfig } from "./config.js";
import { remaining } from "./math.js";
import type { GetValueResult, RateLimitConfigArg, RateLimitState } from "./model.js";
import { activeBlock, hostTarget, randomInt, readShard, stateOf } from "./shards.js";

/** Samples `sampleShards` (default 1) random shards and describes the fullest. */
export async function getRateLimitValue(
  ctx: QueryCtx,
  args: { name: string; key?: string; sampleShards?: number; config: RateLimitConfigArg },
  now: number,
): Promise<GetValueResult> {
  const t = hostTarget(args.name, args.key);
  const config = normalizeConfig(args.config, t.name);
  const samples = args.sampleShards ?? 1;
  assertIntInRange(samples, "sampleShards", 1, config.shards);
  const s = shardConfig(config);
  const alg = config.algorithm;
  const pool = Array.from({ length: config.shards }, (_, i) => i);
  let best: { shard: number; state: RateLimitState | null; value: number } | null = null;
  let blocked: GetValueResult["blocked"];
  let missing = false;
  for (let i = 0; i < samples; i++) {
    const j = i + randomInt(pool.length - i);
    const [a, b] = [pool[i], pool[j]];
    if (a === undefined || b === undefined) break;
    [pool[i], pool[j]] = [b, a];
    const doc = await readShard(ctx.db, t, b);
    missing ||= doc === null && b !== 0;
    // A block is stored on shard 0 and every existing shard document.
    blocked = activeBlock(doc, now) ?? blocked;
    const state = stateOf(alg, doc);
    // A shard never written reports the whole capacity, as the peer's getValue does.
    const value = state === null ? config.capacity : remaining(s, state, t.seed, now);
    if (best === null || value > best.value) best = { shard: b, state, value };
  }
  if (blocked === undefined && missing) {
    blocked = activeBlock(await readShard(ctx.db, t, 0), now) ?? undefined;
  }
  const shard = best?.shard ?? 0;
  const state = best?.state ?? null;
  const windowStart = alg.windowStart?.(s, state, t.seed, now);
  const stored = state !== null && alg.reportsStored;
  const unfolded = config.async
    ? (await readPending(ctx.db, t)).reduce((sum, row) => sum + row.count, 0)
    : undefined;
  return {
    value: stored ? state.value : (best?.value ?? config.capacity),
    ts: stored ? state.ts : now,
    ...(windowStart !== undefined ? { windowStart } : {}),
    ...(alg.describe ? alg.describe(s, state, t.seed, now) : {}),
    shard,
    shards: config.shards,
    capacity: alg.capacity(s),
    config: config.reported(windowStart),
    state,
    now,
    ...(unfolded !== undefined ? { unfolded } : {}),
    ...(blocked ? { blocked } : {}),
  };
}
