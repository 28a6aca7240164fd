import { describe, expect, test } from "vitest";
import { pages, read } from "./pages.js";
import { DAY, HOUR, MINUTE, SECOND } from "../../src/component/lib/time.js";
import { MAX_KEY_BYTES } from "../../src/component/lib/validate.js";
import { MAX_OBJECT_FIELDS, MAX_VALUE_DEPTH } from "../../src/component/lib/values.js";
import * as audit from "../../src/component/audit/model.js";
import { SALT_HEX_LENGTH } from "../../src/component/audit/leaf.js";
import { METADATA_WRAP_DEPTH } from "../../src/component/audit/checks.js";
import { MAX_SKIP_PATH, skipPath } from "../../src/component/audit/skips.js";
import { SEAL_DELAY_MS } from "../../src/component/maintenance/due.js";
import * as schedule from "../../src/component/maintenance/schedule.js";
import * as codes from "../../src/component/codes/rules.js";
import { ALPHANUMERIC } from "../../src/component/codes/crypto.js";
import { CODE_SWEEP_BATCH } from "../../src/component/codes/store.js";
import * as keys from "../../src/component/apiKeys/rules.js";
import * as keyFormat from "../../src/component/apiKeys/format.js";
import { MAX_PAGE_SIZE as KEYS_PAGE } from "../../src/component/apiKeys/admin.js";
import { API_KEY_SWEEP_BATCH } from "../../src/component/apiKeys/retention.js";
import { FOLD_BATCH, MAX_UNFOLDED } from "../../src/component/rateLimits/async.js";
import { MAX_SHARDS } from "../../src/component/rateLimits/config.js";
import {
  MAX_ENTRIES,
  MAX_ENTRY_COUNT,
  MAX_LOG_BYTES,
} from "../../src/component/rateLimits/windowCodec.js";
import { CELLS, MAX_RESERVED_PERIODS, SLACK } from "../../src/component/rateLimits/windowLog.js";
import { MAX_LIMIT_ALL } from "../../src/component/rateLimits/store.js";
import { MAX_EXACT_RATE } from "../../src/component/rateLimits/algorithms/exactSlidingWindow.js";
import { MAX_BLOCKS_PAGE, MAX_REASON_BYTES } from "../../src/component/rateLimits/blocks.js";
import * as statsQuery from "../../src/component/rateLimits/statsQuery.js";
import * as stats from "../../src/component/rateLimits/stats.js";
import { SWEEP_BATCH } from "../../src/component/rateLimits/maintain.js";

/*
 * Every number a page states is derived from the code here, so a page that
 * disagrees with a constant fails. Two kinds of statement are checked:
 *
 * 1. A constant named in backquotes with its value next to it, either way
 *    round: "`MAX_PROOF_READS` (625)", "`MAX_SKIP_PATH` = 107",
 *    "10 s after the oldest unsealed event (`SEAL_DELAY_MS`)". Every exported
 *    numeric constant of src/component is known by name; units (s, minutes,
 *    hours, days, KB) convert to the constant's ms or bytes.
 * 2. Prose claims (`claims` below): a pattern finds the number by the words
 *    around it, on every page, and each occurrence must equal the value
 *    derived from the constants. A claim that no page states any more fails
 *    too, so a reworded sentence is noticed and its pattern updated.
 */

/** Page text with line breaks (and the indentation after them) read as one space. */
const text = new Map(pages.map((p) => [p, read(p).replace(/\s*\n\s*/g, " ")]));

/** A stated number: "36,500", "2.4", "+ 1", "− 1". */
function num(s: string): number {
  return Number(s.replace(/[,\s]/g, "").replace("−", "-"));
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: SECOND,
  second: SECOND,
  seconds: SECOND,
  min: MINUTE,
  minute: MINUTE,
  minutes: MINUTE,
  h: HOUR,
  hour: HOUR,
  hours: HOUR,
  day: DAY,
  days: DAY,
  byte: 1,
  bytes: 1,
  KB: 1024,
  KiB: 1024,
};
const UNIT = Object.keys(UNITS)
  .sort((a, b) => b.length - a.length)
  .join("|");

// ---- 1. constants named with their value ----

const modules = import.meta.glob<Record<string, unknown>>(
  ["../../src/component/**/*.ts", "!../../src/component/_generated/**"],
  { eager: true },
);
/** Exported numeric constants by name; a name two modules export with different values is left out. */
const constants = new Map<string, number>();
const ambiguous = new Set<string>();
for (const mod of Object.values(modules)) {
  for (const [name, value] of Object.entries(mod)) {
    if (!/^[A-Z][A-Z0-9_]+$/.test(name) || typeof value !== "number") continue;
    if (constants.has(name) && constants.get(name) !== value) ambiguous.add(name);
    constants.set(name, value);
  }
}
for (const name of ambiguous) constants.delete(name);

const NUMBER = String.raw`\d[\d,]*(?:\.\d+)?`;
/** "`NAME` (2 s", "`NAME` = 107", "`NAME`, 1 hour" */
const NAME_THEN_VALUE = new RegExp(
  String.raw`\x60([A-Z][A-Z0-9_]+)\x60\s*(?:\(|=|,)\s*(${NUMBER})(?:\s*(${UNIT})\b)?`,
  "g",
);
/** "10 s after the oldest unsealed event (`SEAL_DELAY_MS`)", "100 events (`RETAIN_BATCH`, `ERASE_BATCH`)" */
const VALUE_THEN_NAMES = new RegExp(
  String.raw`(?<![\d.])(${NUMBER})(?:\s*(${UNIT})\b)?(?:\s+[a-z][a-z -]{0,40}?)?\s+\(((?:\x60[A-Z][A-Z0-9_]+\x60(?:,\s*)?)+)\)`,
  "g",
);

type Statement = { page: string; name: string; stated: number; quote: string };

function namedStatements(): Statement[] {
  const out: Statement[] = [];
  for (const [page, body] of text) {
    for (const m of body.matchAll(NAME_THEN_VALUE)) {
      const [quote, name, n, unit] = m;
      if (constants.has(name!))
        out.push({ page, name: name!, stated: num(n!) * (UNITS[unit ?? "ms"] ?? 1), quote });
    }
    for (const m of body.matchAll(VALUE_THEN_NAMES)) {
      const [quote, n, unit, names] = m;
      for (const [, name] of names!.matchAll(/\x60([A-Z][A-Z0-9_]+)\x60/g)) {
        if (constants.has(name!))
          out.push({ page, name: name!, stated: num(n!) * (UNITS[unit ?? "ms"] ?? 1), quote });
      }
    }
  }
  return out;
}

describe("numbers the docs state next to a constant's name", () => {
  const statements = namedStatements();

  test("the pages name constants with values (the patterns still find them)", () => {
    expect(statements.length).toBeGreaterThanOrEqual(15);
  });

  test.each(statements.map((s) => [s.name, s.page, s] as const))("%s in %s", (name, page, s) => {
    expect(s.stated, `${page}: "${s.quote}"`).toBe(constants.get(name));
  });
});

// ---- 2. prose claims ----

type Claim = {
  /** What the number is, for the test name. */
  what: string;
  /** Finds the statement; the named group `n` is the stated number. Global. */
  pattern: RegExp;
  /** The number derived from the code, in the unit the pattern reads (or from other groups). */
  value: number | ((groups: Record<string, string>) => number);
};

/** Longest skip path from any seal to the head of a log of `seals` seals. */
function longestPath(seals: number): number {
  let most = 0;
  for (let k = 0; k < seals; k++) most = Math.max(most, skipPath(k, seals - 1).length);
  return most;
}
/** How the constant offset of a path length bound `2·log2(n) + c` follows from MAX_SKIP_PATH. */
const PATH_OFFSET = MAX_SKIP_PATH - 2 * 53;

const claims: Claim[] = [
  // ---- audit log ----
  {
    what: "proof path length bound 2·log2(n) + c",
    pattern: /2·log2\(\w\) (?<n>[+−-] \d+)/g,
    value: PATH_OFFSET,
  },
  {
    what: "proof path from seal 0 of a long log",
    pattern: /(?<n>\d+) seals from seal 0 to the head of a (?<size>[\d,]+)-seal log/g,
    value: (g) => skipPath(0, num(g.size!) - 1).length,
  },
  {
    what: "longest proof path of a log of 2,200 seals",
    pattern: /2,200-seal log \(three idle months of hourly empty seals; (?<n>\d+) at most/g,
    value: longestPath(2_200),
  },
  {
    what: "longest proof path of a log of 10,000 seals",
    pattern: /(?<n>\d+) at most for any event of a 10,000-seal log/g,
    value: longestPath(10_000),
  },
  {
    what: "longest proof path of a log of a million seals",
    pattern: /(?<n>\d+) for a million seals/g,
    value: longestPath(1_000_000),
  },
  { what: "events per seal", pattern: /Up to (?<n>\d+) good events/g, value: audit.SEAL_BATCH },
  {
    what: "events a seal's batch reads",
    pattern:
      /(?:batch of at most|each read ≤|seal of a full batch \(maintenance\) \|) (?<n>\d+) events/g,
    value: audit.SEAL_BATCH + 1,
  },
  {
    what: "events per verify page",
    pattern: /(?:pages \(at most|`verify` reads at most) (?<n>[\d,]+) events/g,
    value: audit.VERIFY_PAGE_EVENTS,
  },
  {
    what: "audit redact paths",
    pattern: /\| `redact` \| none \| up to (?<n>\d+) of/g,
    value: audit.MAX_REDACT_PATHS,
  },
  {
    what: "audit retention days",
    pattern: /`\{ days \}`, > 0 and ≤ (?<n>[\d,]+)/g,
    value: audit.MAX_RETENTION_DAYS,
  },
  {
    what: "audit list page size",
    pattern: /(?:Page size: 1\.\.|pages are capped at )(?<n>\d+)/g,
    value: audit.MAX_PAGE_SIZE,
  },
  {
    what: "audit metadata KB",
    pattern: /metadata (?:≤|over) (?<n>\d+) KB|capped at (?<n2>\d+) KiB/g,
    value: audit.MAX_METADATA_BYTES / 1024,
  },
  {
    what: "string KB",
    pattern: /(?:every string ≤|strings over|strings at) (?<n>\d+) (?:KB|KiB)/g,
    value: audit.MAX_STRING_BYTES / 1024,
  },
  {
    what: "key bytes",
    pattern:
      /(?:tenant and eventId ≤|keys over|`subject`\/`action` over|code over|a key over) (?<n>\d+) bytes/g,
    value: MAX_KEY_BYTES,
  },
  {
    what: "targets per event",
    pattern: /(?:≤|more than|events at) (?<n>\d+) targets/g,
    value: audit.MAX_TARGETS,
  },
  {
    what: "commitment salt bytes",
    pattern: /with a (?<n>\d+)-byte salt/g,
    value: SALT_HEX_LENGTH / 2,
  },
  {
    what: "unsealed window seconds",
    pattern: /seal \(at most (?<n>\d+) seconds at steady traffic|one more (?<n2>\d+) s,/g,
    value: SEAL_DELAY_MS / SECOND,
  },
  {
    what: "default stalledAfterMs minutes",
    pattern: /`stalledAfterMs`, default (?<n>\d+) minutes/g,
    value: audit.DEFAULT_STALLED_AFTER_MS / MINUTE,
  },
  {
    what: "clock bound seconds",
    pattern: /within (?<n>\d+) s \(`CLOCK_BOUND_MS`\)|`sealedAt` within (?<n2>\d+) s/g,
    value: audit.CLOCK_BOUND_MS / SECOND,
  },
  {
    what: "retention events per tick",
    pattern: /horizon, (?<n>\d+) per tick/g,
    value: audit.RETAIN_BATCH,
  },
  {
    what: "erasure events per call",
    pattern: /(?<n>\d+) events per call/g,
    value: audit.ERASE_BATCH,
  },
  {
    what: "trusted lead of a pending tick, seconds",
    pattern:
      /(?:under|at least|within) (?<n>\d+) s(?: \(`TRUST_LEAD_MS`\))? (?:ahead|\(they)|due within (?<n2>\d+) s/g,
    value: schedule.TRUST_LEAD_MS / SECOND,
  },
  {
    what: "proof read cap",
    pattern: /`MAX_PROOF_READS` \((?<n>\d+)\)/g,
    value: audit.MAX_PROOF_READS,
  },
  // ---- maintenance ----
  {
    what: "maintenance batch per pass (audit seal)",
    pattern: /\| audit: seal \|[^|]*\| (?<n>\d+) events \|/g,
    value: audit.SEAL_BATCH,
  },
  {
    what: "maintenance batch per pass (audit retention)",
    pattern: /\| audit: retention \|[^|]*\| (?<n>\d+) events \|/g,
    value: audit.RETAIN_BATCH,
  },
  {
    what: "maintenance batch per pass (idle rate-limit keys; folds)",
    pattern: /\| (?<n>\d+) documents; (?<rows>\d+) rows \|/g,
    value: (g) => (num(g.rows!) === FOLD_BATCH ? SWEEP_BATCH : -1),
  },
  {
    what: "maintenance batch per pass (usage stats)",
    pattern: /\| (?<n>\d+) each \|/g,
    value: Math.max(stats.STATS_FLUSH_BATCH, stats.STATS_FOLD_BATCH, stats.STATS_RETENTION_BATCH),
  },
  {
    what: "maintenance batch per pass (codes)",
    pattern: /\| codes \|[^|]*\| (?<n>\d+) rows \||deletes the row \((?<n2>\d+) per pass/g,
    value: CODE_SWEEP_BATCH,
  },
  {
    what: "maintenance batch per pass (API keys)",
    pattern: /\| API keys \|[^|]*\| (?<n>\d+) rows \|/g,
    value: API_KEY_SWEEP_BATCH,
  },
  {
    what: "failure back-off cap",
    pattern: /1 s doubling to (?<n>\d+) hours?/g,
    value: schedule.MAX_FAILURE_BACKOFF_MS / HOUR,
  },
  {
    what: "longest tick delay, days",
    pattern: /(?<n>\d+) days gets a tick at \d+ days/g,
    value: schedule.MAX_TICK_DELAY_MS / DAY,
  },
  {
    what: "lost tick grace, minutes",
    pattern: /tick cancelled, failed or (?<n>\d+) min late/g,
    value: schedule.LOST_TICK_GRACE_MS / MINUTE,
  },
  // ---- confirmation codes ----
  {
    what: "code secret bytes (min)",
    pattern:
      /(?:string of|each) (?<n>\d+) to [\d,]+ bytes|shorter than (?<n2>\d+) bytes|secret under (?<n3>\d+) bytes|\((?<n4>\d+)\+ random bytes\)/g,
    value: codes.MIN_SECRET_BYTES,
  },
  {
    what: "code secret bytes (max)",
    pattern: /\d+ to (?<n>[\d,]+) bytes/g,
    value: codes.MAX_SECRET_BYTES,
  },
  {
    what: "previous secrets",
    pattern: /up to (?<n>\d+) earlier secrets/g,
    value: codes.MAX_PREVIOUS_SECRETS,
  },
  {
    what: "default digits",
    pattern: /\| `digits` \| `(?<n>\d+)` \||(?<n2>\d+) digits \(default\)/g,
    value: codes.DEFAULTS.digits,
  },
  {
    what: "digits range (max)",
    pattern: /\| `digits` \| `\d+` \| integer \d+\.\.(?<n>\d+)/g,
    value: codes.MAX_DIGITS,
  },
  {
    what: "digits range (min)",
    pattern: /\| `digits` \| `\d+` \| integer (?<n>\d+)\.\./g,
    value: codes.MIN_DIGITS,
  },
  {
    what: "alphanumeric range",
    pattern: /\| `alphanumeric` \| unset \| integer (?<lo>\d+)\.\.(?<n>\d+)/g,
    value: (g) => (num(g.lo!) === codes.MIN_ALPHANUMERIC ? codes.MAX_ALPHANUMERIC : -1),
  },
  {
    what: "alphanumeric alphabet size",
    pattern: /(?<n>\d+)\^10 ≈/g,
    value: ALPHANUMERIC.length,
  },
  {
    what: "default ttl, minutes",
    pattern: /\| `ttl` \| `(?<n>\d+) \* MINUTE`/g,
    value: codes.DEFAULTS.ttl / MINUTE,
  },
  {
    what: "max ttl, hours",
    pattern: /> 0 and ≤ (?<n>\d+) hours|ttl over (?<n2>\d+) h|not finite or over (?<n3>\d+)/g,
    value: codes.MAX_TTL / HOUR,
  },
  {
    what: "default grace, hours",
    pattern: /\| `grace` \| `(?<n>\d+) \* HOUR`|`grace` \(default (?<n2>\d+) (?:hours|h)\)/g,
    value: codes.DEFAULTS.grace / HOUR,
  },
  {
    what: "max grace, days",
    pattern: /integer ms, 0\.\.(?<n>\d+) days/g,
    value: codes.MAX_GRACE / DAY,
  },
  {
    what: "default maxAttempts",
    pattern: /\| `maxAttempts` \| `(?<n>\d+)`/g,
    value: codes.DEFAULTS.maxAttempts,
  },
  {
    what: "maxAttempts bound",
    pattern:
      /\| `maxAttempts` \| `\d+` \| integer 1\.\.(?<n>\d+)|wrong tries per code \(1\.\.(?<n2>\d+)\)/g,
    value: codes.MAX_ATTEMPTS_LIMIT,
  },
  {
    what: "default issue limit",
    pattern: /\| `issueLimit` \| (?<n>\d+) per (?<p>\d+) minutes/g,
    value: (g) =>
      num(g.p!) * MINUTE === codes.DEFAULTS.issueLimit.period ? codes.DEFAULTS.issueLimit.rate : -1,
  },
  {
    what: "code limiter rate bound",
    pattern: /`rate` integer 1\.\.(?<n>[\d,]+), `period` > 0/g,
    value: codes.MAX_LIMIT_RATE,
  },
  {
    what: "code limiter period bound, days",
    pattern: /`period` > 0 and ≤ (?<n>\d+) days/g,
    value: codes.MAX_LIMIT_PERIOD / DAY,
  },
  {
    what: "default failure limit per hour",
    pattern: /\| `failureLimit` \| (?<n>\d+) per hour|that is (?<n2>\d+) tries an hour/g,
    value: codes.DEFAULTS.failureLimit.rate * (HOUR / codes.DEFAULTS.failureLimit.period),
  },
  {
    what: "default failures a day",
    pattern: /tries an hour, (?<n>\d+) a day|evaluated \((?<n2>\d+)\)/g,
    value: codes.DEFAULTS.failureLimit.rate * (DAY / codes.DEFAULTS.failureLimit.period),
  },
  {
    what: "code payload KB",
    pattern: /payload`? (?:is any Convex value up to|over) (?<n>\d+) KB/g,
    value: codes.MAX_PAYLOAD_BYTES / 1024,
  },
  // ---- API keys ----
  {
    what: "API key prefix length",
    pattern: /starting with a letter, ≤ (?<n>\d+) characters/g,
    value: keyFormat.MAX_PREFIX_LENGTH,
  },
  {
    what: "declared scopes",
    pattern: /up to (?<n>\d+) distinct names/g,
    value: keys.MAX_DECLARED_SCOPES,
  },
  {
    what: "scope bytes",
    pattern: /≤ (?<n>\d+) bytes each/g,
    value: keys.MAX_SCOPE_BYTES,
  },
  {
    what: "default denial limit",
    pattern: /\| `denialLimit` \| (?<n>\d+) per minute/g,
    value: keys.DEFAULT_DENIAL_LIMIT.rate * (MINUTE / keys.DEFAULT_DENIAL_LIMIT.period),
  },
  {
    what: "default API key retention, days",
    pattern: /`\{ days: (?<n>\d+) \}`|\(default (?<n2>\d+) days\)/g,
    value: keys.DEFAULT_RETENTION / DAY,
  },
  {
    what: "default maxKeysPerOwner",
    pattern: /\| `maxKeysPerOwner` \| (?<n>\d+) \||`maxKeysPerOwner` \(default (?<n2>\d+),/g,
    value: keys.DEFAULT_MAX_KEYS_PER_OWNER,
  },
  {
    what: "maxKeysPerOwner bound",
    pattern: /\| `maxKeysPerOwner` \| \d+ \| integer 1\.\.(?<n>[\d,]+)/g,
    value: keys.MAX_KEYS_PER_OWNER,
  },
  {
    what: "key id characters",
    pattern: /\*\*key id\*\*: (?<n>\d+) base62 characters/g,
    value: keyFormat.KEY_ID_LENGTH,
  },
  {
    what: "secret characters",
    pattern: /\*\*secret\*\*: (?<n>\d+) base62 characters|secret \((?<n2>\d+)\)/g,
    value: keyFormat.SECRET_LENGTH,
  },
  {
    what: "checksum characters",
    pattern: /CRC-32 of everything before it, (?<n>\d+) base62 characters/g,
    value: keyFormat.CHECKSUM_LENGTH,
  },
  {
    what: "rotation overlap default, days",
    pattern: /`overlap` default (?<n>\d+) day/g,
    value: keys.DEFAULT_OVERLAP / DAY,
  },
  {
    what: "rotation overlap bound, days",
    pattern: /`overlap`,? (?:default \d+ days?, )?(?:outside )?0\.\.(?<n>\d+) days/g,
    value: keys.MAX_OVERLAP / DAY,
  },
  {
    what: "API key list page",
    pattern: /≤ (?<n>\d+) per page/g,
    value: KEYS_PAGE,
  },
  {
    what: "API key name bytes",
    pattern: /oversized \(> (?<n>\d+) bytes\)/g,
    value: keys.MAX_NAME_BYTES,
  },
  {
    what: "API key lifetime, years",
    pattern: /\(or > (?<n>\d+) years ahead\)/g,
    value: keys.MAX_LIFETIME / (365 * DAY),
  },
  // ---- rate limits (numbers only) ----
  {
    what: "shards",
    pattern: /`shards` is an integer from 1 to (?<n>[\d,]+)/g,
    value: MAX_SHARDS,
  },
  {
    what: "exact precision rate",
    pattern:
      /rate <= (?<n>[\d,]+)`? and `maxReserved <= rate`|exact precision stops at `rate: (?<n2>[\d,]+)`|\(rate <= (?<n3>[\d,]+)\)/g,
    value: MAX_EXACT_RATE,
  },
  {
    what: "per-shard count of the default window",
    pattern: /rate \/ shards <= (?<n>[\d,]+)`|A count is at most (?<n2>[\d,]+) per entry/g,
    value: MAX_ENTRY_COUNT,
  },
  {
    what: "default window entries",
    pattern: /exact up to (?<n>\d+) per period|at most (?<n2>\d+) entries/g,
    value: MAX_ENTRIES,
  },
  {
    what: "maxReserved periods",
    pattern: /`maxReserved <= (?<n>\d+) x rate`|default and max: (?<n2>\d+) x rate/g,
    value: MAX_RESERVED_PERIODS,
  },
  {
    what: "limitAll requests",
    pattern: /At most (?<n>\d+) requests|`limitAll` (?:over|at) (?<n2>\d+) requests/g,
    value: MAX_LIMIT_ALL,
  },
  {
    what: "asynchronous calls in flight",
    pattern: /Beyond (?<n>\d+) such rows|more than (?<n2>\d+) calls in flight/g,
    value: MAX_UNFOLDED,
  },
  {
    what: "listBlocks page",
    pattern: /at most (?<n>\d+) per page\)/g,
    value: MAX_BLOCKS_PAGE,
  },
  {
    what: "block reason bytes",
    pattern: /`reason` non-empty and at most (?<n>\d+) bytes/g,
    value: MAX_REASON_BYTES,
  },
  {
    what: "stats range, days",
    pattern: /most (?<n>\d+) days; `top` is/g,
    value: statsQuery.MAX_STATS_RANGE_MS / DAY,
  },
  {
    what: "stats top",
    pattern: /`top` is 1 to (?<n>\d+)/g,
    value: statsQuery.MAX_TOP,
  },
  {
    what: "stats retention per key, days",
    pattern: /per-key hours are kept (?<n>\d+) days/g,
    value: stats.KEY_STATS_RETENTION_MS / DAY,
  },
  {
    what: "stats retention per name, days",
    pattern: /per-name hours (?<n>\d+) days/g,
    value: stats.NAME_STATS_RETENTION_MS / DAY,
  },
  {
    what: "idle sweep per pass",
    pattern: /`idleAt` through an index, (?<n>\d+) per pass/g,
    value: SWEEP_BATCH,
  },
  {
    what: "default window over-admission, percent of the rate",
    pattern:
      /(?:more than|within) (?<n>\d+)% (?:above it|of)|`rate \+ floor\(rate \/ (?<n2>\d+)\)`/g,
    // "1%", or the divisor that gives it
    value: (g) => (g.n2 === undefined ? SLACK * 100 : 1 / SLACK),
  },
  {
    what: "default window retryAfter excess, fraction of the period",
    pattern: /at most 1\/(?<n>\d+) of the period longer|period \/ (?<n2>\d+) \(guaranteed\)/g,
    value: CELLS,
  },
  {
    what: "log bytes of the default window",
    pattern: /entries in <= (?<n>\d+) bytes|fits (?<n2>\d+) bytes/g,
    value: MAX_LOG_BYTES,
  },
  // ---- limits of the platform the component enforces ----
  {
    what: "value nesting levels",
    pattern: /Values nest at most (?<n>\d+) levels/g,
    value: MAX_VALUE_DEPTH,
  },
  {
    what: "metadata nesting of its own",
    pattern: /at most (?<n>\d+) levels of its own/g,
    value: MAX_VALUE_DEPTH - METADATA_WRAP_DEPTH,
  },
  {
    what: "object fields",
    pattern: /Objects have at most (?<n>[\d,]+) fields/g,
    value: MAX_OBJECT_FIELDS,
  },
];

/** Every occurrence of a claim: its stated number (group n, n2, …) and the other groups. */
function occurrences(c: Claim) {
  const out: { page: string; stated: number; groups: Record<string, string>; quote: string }[] = [];
  for (const [page, body] of text) {
    for (const m of body.matchAll(c.pattern)) {
      const groups = Object.fromEntries(
        Object.entries(m.groups ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const stated = Object.entries(groups).find(([k]) => /^n\d*$/.test(k))?.[1];
      if (stated !== undefined) out.push({ page, stated: num(stated), groups, quote: m[0] });
    }
  }
  return out;
}

describe("numbers the docs state in prose", () => {
  test.each(claims.map((c) => [c.what, c] as const))("%s", (_what, c) => {
    const found = occurrences(c);
    expect(found.length, `no page states "${c.what}" as ${String(c.pattern)}`).toBeGreaterThan(0);
    for (const o of found) {
      const expected = typeof c.value === "number" ? c.value : c.value(o.groups);
      expect(o.stated, `${o.page}: "${o.quote}"`).toBe(expected);
    }
  });
});
