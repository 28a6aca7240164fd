/**
 * Access to one rate-limit shard document, shared by the store's writes and
 * getValue's reads: the index lookup, the stored state, the shard seed.
 */
import type { Doc } from "../_generated/dataModel.js";
import type { DatabaseReader } from "../_generated/server.js";
import { assertKey } from "../lib/validate.js";
import { assertLimitName } from "./config.js";
import type { RateLimitState } from "./model.js";

/** Seeds the per-key fixed-window alignment and random start. */
export function seedOf(name: string, key: string): string {
  return `${name}\u0000${key}`;
}

/** Name and key of a public call that does not go through `prepare` (credit, getValue, reset). */
export function publicTarget(args: { name: string; key?: string }): { name: string; key: string } {
  assertLimitName(args.name);
  if (args.key === undefined) return { name: args.name, key: "" };
  assertKey(args.key);
  return { name: args.name, key: args.key };
}

export function readShard(db: DatabaseReader, name: string, key: string, shard: number) {
  return db
    .query("rateLimits")
    .withIndex("by_name_key_shard", (q) => q.eq("name", name).eq("key", key).eq("shard", shard))
    .unique();
}

export function toState(doc: Doc<"rateLimits"> | null): RateLimitState | null {
  if (doc === null) return null;
  const { value, ts, prev, log } = doc;
  return { value, ts, prev, log };
}

export function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}
