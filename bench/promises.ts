/**
 * The cost and behaviour numbers the README promises. `npm run bench` checks
 * every measured value against these and exits non-zero if one is exceeded,
 * so the README (which includes bench/RESULTS.md) and the code cannot drift.
 * Costs are convex-test transaction metrics of the call alone, worst case
 * over the sampled calls. convex-test counts a `patch` as a read of the
 * patched document too, so "touches one document" shows as 2 reads.
 */
export type Promise_ = {
  id: string;
  /** What the README says, in words. */
  text: string;
  /** The largest value the measurement may have. */
  max: number;
};

const p = (id: string, max: number, text: string): Promise_ => ({ id, max, text });

export const PAGE_SIZE = 50;

export const PROMISES: Promise_[] = [
  // Rate limits, unsharded (every algorithm).
  p(
    "limit.allowed.reads",
    2,
    "an allowed `limit` reads at most 2 documents (its one state document, read and patched)",
  ),
  p("limit.allowed.writes", 1, "an allowed `limit` writes 1 document"),
  p("limit.denied.reads", 1, "a denied `limit` reads 1 document"),
  p("limit.denied.writes", 0, "a denied `limit` writes nothing"),
  p(
    "limit.first.reads",
    1,
    "the first `limit` on a new key reads only the maintenance state (stale snapshot, no read dependency)",
  ),
  p("limit.first.writes", 1, "the first `limit` on a new key writes 1 document"),
  p("check.writes", 0, "`check` writes nothing"),
  p("check.reads", 1, "`check` reads 1 document"),
  p("limitAll2.reads", 4, "`limitAll` of 2 limits reads at most 4 documents"),
  p("limitAll2.writes", 2, "`limitAll` of 2 limits writes at most 2 documents"),
  p("limit.indexRanges", 2, "a `limit` queries at most 2 index ranges"),
  // Rate limits, 10 shards.
  p(
    "sharded.allowed.reads",
    4,
    "with shards, an allowed `limit` reads at most 2 shards (4 reads when it draws on both)",
  ),
  p("sharded.allowed.writes", 2, "with shards, an allowed `limit` writes at most 2 shards"),
  p("sharded.denied.reads", 2, "with shards, a denied `limit` reads at most 2 shards"),
  p("sharded.denied.writes", 0, "with shards, a denied `limit` writes nothing"),
  p("sharded.check.writes", 0, "with shards, `check` writes nothing"),
  p(
    "limit.stats.newConflictPct",
    0,
    "usage stats add no conflict between concurrent `limit` calls (extra conflicting pairs %, stats on vs off)",
  ),
  p(
    "react.bundleBytes",
    4096,
    "`convex-guard/react` is at most 4 KB (4,096 bytes) minified, with `react` and `convex` external",
  ),
  p(
    "client.bundleBytes",
    100 * 1024,
    "the host client (`convex-guard`, every capability) is at most 100 KB (102,400 bytes) minified, with `react` and `convex` external",
  ),
  // Speed against the peer is reported, not promised: the token bucket row is
  // ahead by a few percent, which a busy machine can erase in one run. Five
  // `--only speed` runs on 2026-12-07 (15 rounds of 500 calls after 1,000
  // warm-up calls, bench/speed.ts): median-call ratios 1.04x (token bucket,
  // every run), 1.13-1.14x (fixed window), 1.55-1.57x (10 shards); mean-based
  // 1.00-1.09x (median 1.01x), 1.06-1.15x (1.11x), 1.58-1.59x (1.58x). The
  // peer's token bucket is its cheapest path (no union miss in its config
  // argument, a five-field document); ours also stores the idle time (for the
  // sweep) and the state's tag.
  // Audit log.
  p(
    "audit.log.reads",
    1,
    "`audit.log` reads at most 1 document (the maintenance state, on a stale snapshot)",
  ),
  p(
    "audit.log.conflictPct",
    0,
    "concurrent `audit.log` calls never conflict while a maintenance tick is pending (% of pairs that conflict; at an idle → busy transition they conflict once, on waking the loop)",
  ),
  p(
    "audit.list.reads",
    PAGE_SIZE + 2,
    `a \`list\` page of ${PAGE_SIZE} reads at most page size + 2 documents (actor, action, outcome, time)`,
  ),
  p(
    "audit.list.target.reads",
    2 * PAGE_SIZE + 2,
    `a \`list\` page filtered by target reads at most 2 x page size + 2 (index row + event)`,
  ),
  p(
    "audit.list.growth",
    0,
    "a `list` page reads no more documents when the log is 10–20x larger (growth in documents read)",
  ),
  p(
    "audit.verify.readsPer1000",
    2100,
    "`verify` reads at most 2,100 documents per 1,000 one-target events (events, their target rows, seals)",
  ),
  // Confirmations.
  p(
    "codes.issue.reads",
    4,
    "`issue` reads at most 4 documents (code row, issue limit; a patch counts as a read)",
  ),
  p("codes.issue.writes", 3, "`issue` writes at most 3 documents"),
  p(
    "codes.consume.reads",
    4,
    "`consume` reads at most 4 documents (code row, failure limit; a patch counts as a read)",
  ),
  p("codes.consume.writes", 2, "`consume` writes at most 2 documents"),
  // API keys.
  p(
    "apiKeys.verify.reads",
    1,
    "`verify` of a valid key reads 1 document (warm key: lastUsedAt is at most a minute old)",
  ),
  p("apiKeys.verify.query.writes", 0, "`verify` in a query writes nothing"),
  p(
    "apiKeys.verify.limited.reads",
    3,
    "`verify` with a per-key limit reads at most 3 documents (key, limiter shard read and patched)",
  ),
  p(
    "apiKeys.verify.wrong.writes",
    1,
    "`verify` with a wrong secret writes at most 1 document (its denial count)",
  ),
  p("apiKeys.verify.malformed.reads", 0, "`verify` of a malformed key reads nothing"),
  p(
    "apiKeys.hot.writesPerMinute",
    1,
    "one key verified 100 times a second: no document is written more than once a minute",
  ),
  p(
    "apiKeys.hot.conflictPct",
    1,
    "one key verified 100 times a second: at most 1% of calls would retry (modelled)",
  ),
  // Access control.
  p("access.actor.reads", 0, "the actor comes from the identity: 0 documents"),
  p("access.can.roleOf.reads", 0, "a permission check with `roleOf` makes no component read"),
  p(
    "access.can.grants.reads",
    1,
    "permission checks with stored grants read 1 document per (actor, scope) per call (one grant held)",
  ),
  p(
    "access.grant.writes",
    2,
    "`grant` writes at most 2 documents (1 measured), plus the audit event and one deletion per expired grant of that actor and scope it clears when it adds a row (at most 64)",
  ),
  p(
    "access.revoke.writes",
    2,
    "`revoke` writes at most 2 documents (1 measured), plus the audit event",
  ),
  // Background maintenance.
  p(
    "maintenance.idlePerDay",
    0,
    "an idle deployment runs no scheduled function (executions per day, unused or after its work is done)",
  ),
  p(
    "maintenance.ticksPer1000",
    30,
    "steady traffic at 10 calls/s runs at most 30 maintenance ticks per 1,000 calls",
  ),
  p(
    "maintenance.log.retriedWhenScheduled",
    0,
    "with a tick pending, concurrent `audit.log` calls never retry on the loop state (nor when the tick commits)",
  ),
  p(
    "maintenance.log.stateWrites",
    0,
    "with a tick pending, `audit.log` never writes the loop state",
  ),
  // Audit log integrity.
  p(
    "audit.fuzz.other",
    0,
    "the tamper fuzzer (a fixed seed) finds no tampering that is neither caught by `verify`, caught with an anchor, nor inside the unsealed window",
  ),
  p(
    "audit.sealWindow.maxMs",
    10_000,
    "at steady `audit.log` traffic, the loop seals every event within 10 s of its commit (ms, simulated time)",
  ),
  // Accuracy and storage.
  p(
    "exact.overPct",
    0,
    '`precision: "exact"` never admits more than `rate` per `period` (over-admission %, every trace)',
  ),
  p("exact.burst", 1, '`precision: "exact"`: most admitted in any period / rate'),
  p(
    "default.overPct",
    0.5,
    "default sliding window: over-admission vs the exact rule at most 0.5% of requests (every trace)",
  ),
  p(
    "default.underPct",
    0.5,
    "default sliding window: under-admission vs the exact rule at most 0.5% of requests (every trace)",
  ),
  p(
    "default.burst",
    1.01,
    "default sliding window: most admitted in any period / rate <= 1.01 (rate + rate/100)",
  ),
  p(
    "default.retryExcess",
    0.0625,
    "default sliding window: no denied call's retryAfter exceeds the exact window's by more than period/16",
  ),
  // Asynchronous limits (hot keys).
  p(
    "async.conflictPct100",
    0,
    "asynchronous `limit`: 100 concurrent calls on one key never conflict through the limiter (conflicting pairs %, modelled)",
  ),
  p(
    "async.limitAll.conflictPct100",
    0,
    "asynchronous `limitAll`: 100 concurrent calls on one key never conflict through the limiter (conflicting pairs %, modelled)",
  ),
  p(
    "async.apiKey.conflictPct100",
    0,
    "an API key's own asynchronous limit: 100 concurrent verifications of one key never conflict (conflicting pairs %, modelled)",
  ),
  p(
    "async.over10.vsPeer",
    0.1,
    "asynchronous limits at 10× overload admit under a tenth of the peer's asynchronous mode's over-admission (modelled, same run)",
  ),
  p(
    "async.lowest10",
    21,
    "asynchronous limits at 10× overload: the balance never goes below minus one call plus the calls in flight (20; modelled)",
  ),
  p(
    "async.reads100Unfolded",
    4,
    "asynchronous `limit` reads 4 documents with 100 calls unfolded before it: the cost does not grow with fold lag",
  ),
  p(
    "default.stateBytes",
    256,
    "default sliding window: the largest state it writes ({ value, ts, log }) is at most 256 bytes",
  ),
  p(
    "quota.overPct",
    0,
    "quota: never admits more than `limit` in a calendar period (over-admission %, every trace)",
  ),
  p(
    "sweep.docsLeft",
    0,
    "after every key went idle and the sweep ran, no rate-limit document is left",
  ),
];

export type PromiseCheck = Promise_ & { measured: number | null; ok: boolean };

/** Checks measured values (null = not measured, which fails). */
export function checkPromises(measured: Record<string, number | null>): PromiseCheck[] {
  return PROMISES.map((pr) => {
    const m = measured[pr.id] ?? null;
    return { ...pr, measured: m, ok: m !== null && m <= pr.max };
  });
}
