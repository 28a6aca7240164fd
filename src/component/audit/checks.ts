import type { Value } from "convex/values";
import { ErrorCode, guardError } from "../lib/errors.js";
import { canonicalJson } from "../lib/hash.js";
import { assertStorableValue } from "../lib/values.js";
import {
  assertFinite,
  assertIntInRange,
  assertKey,
  assertString,
  byteLength,
} from "../lib/validate.js";
import {
  ERASE_ACTION,
  MAX_METADATA_BYTES,
  MAX_PAGE_SIZE,
  MAX_RETENTION_DAYS,
  MAX_STRING_BYTES,
  MAX_TARGETS,
  SYSTEM_ACTOR,
  type Actor,
  type AuditEventInput,
  type Subject,
} from "./model.js";

/**
 * Input checks of the audit log's public functions. Each throws a coded
 * ConvexError (INVALID_ARGUMENT, TOO_LARGE, INVALID_CONFIG) and changes no
 * state; the component runs them, the client only for its own config.
 */

/** Containers around metadata on the way in: the arguments object and the event. */
export const METADATA_WRAP_DEPTH = 2;

function assertOptString(value: unknown, what: string): void {
  if (value !== undefined) assertString(value, what, MAX_STRING_BYTES);
}

export function assertSubject(s: { type: unknown; id: unknown; name?: unknown }, what: string) {
  assertKey(s.type, `${what}.type`);
  assertKey(s.id, `${what}.id`);
  assertOptString(s.name, `${what}.name`);
}

/** Checks an event against every cap; throws INVALID_ARGUMENT / TOO_LARGE. */
export function assertEventInput(e: AuditEventInput): void {
  assertKey(e.action, "action");
  assertSubject(e.actor, "actor");
  const targets = e.targets ?? [];
  if (targets.length > MAX_TARGETS) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `an event has at most ${MAX_TARGETS} targets, got ${targets.length}`,
      { limit: MAX_TARGETS },
    );
  }
  targets.forEach((t, i) => assertSubject(t, `targets[${i}]`));
  if (e.tenant !== undefined) assertKey(e.tenant, "tenant");
  if (e.eventId !== undefined) assertKey(e.eventId, "eventId");
  assertOptString(e.reason, "reason");
  if (e.context !== undefined) {
    for (const [k, val] of Object.entries(e.context)) assertOptString(val, `context.${k}`);
  }
  if (e.occurredAt !== undefined) {
    assertFinite(e.occurredAt, "occurredAt");
    if (e.occurredAt < 0)
      throw guardError(ErrorCode.INVALID_ARGUMENT, "occurredAt must not be negative");
  }
  if (e.metadata !== undefined) assertMetadata(e.metadata);
}

/**
 * Serializes metadata, or throws INVALID_ARGUMENT when it is not a Convex
 * value (a `$`-prefixed key, a non-finite number). The client runs it too:
 * such an argument never reaches the component (the runtime rejects it with
 * an uncoded error first).
 */
export function metadataJson(metadata: unknown): string {
  // Stored as event.metadata and passed as args.event.metadata: two levels around it.
  assertStorableValue(metadata, "metadata", METADATA_WRAP_DEPTH);
  try {
    return canonicalJson(metadata as Value);
  } catch {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      "metadata must be a JSON-like Convex value with finite numbers",
    );
  }
}

function assertMetadata(metadata: unknown): void {
  const bytes = byteLength(metadataJson(metadata));
  if (bytes > MAX_METADATA_BYTES) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `metadata is ${bytes} bytes serialized; the limit is ${MAX_METADATA_BYTES}`,
      { bytes, limit: MAX_METADATA_BYTES },
    );
  }
  assertStringsWithin(metadata, "metadata");
}

function assertStringsWithin(value: unknown, where: string): void {
  if (typeof value === "string") {
    const bytes = byteLength(value);
    if (bytes > MAX_STRING_BYTES) {
      throw guardError(
        ErrorCode.TOO_LARGE,
        `${where} is ${bytes} bytes; the limit is ${MAX_STRING_BYTES}`,
        { bytes, limit: MAX_STRING_BYTES },
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((x, i) => assertStringsWithin(x, `${where}[${i}]`));
  } else if (value !== null && typeof value === "object" && !(value instanceof ArrayBuffer)) {
    for (const [k, x] of Object.entries(value)) assertStringsWithin(x, `${where}.${k}`);
  }
}

/** Checks `erase`'s subject and actor as the erase event will carry them. */
export function assertEraseInput(a: { subject: Subject; actor?: Actor }): void {
  assertEventInput({
    action: ERASE_ACTION,
    actor: a.actor ?? SYSTEM_ACTOR,
    targets: [a.subject],
    outcome: "success",
  });
}

/** Retention in days → milliseconds; throws `code` for a non-positive, non-finite or huge value. */
export function retentionDaysToMs(
  days: unknown,
  code: ErrorCode = ErrorCode.INVALID_CONFIG,
): number {
  if (
    typeof days !== "number" ||
    !Number.isFinite(days) ||
    days <= 0 ||
    days > MAX_RETENTION_DAYS
  ) {
    throw guardError(
      code,
      `retention.days must be a number in (0, ${MAX_RETENTION_DAYS}], got ${String(days)}`,
    );
  }
  return days * 24 * 60 * 60 * 1000;
}

export function assertRetentionMs(ms: unknown): void {
  if (ms === undefined) return;
  if (
    typeof ms !== "number" ||
    !Number.isFinite(ms) ||
    ms <= 0 ||
    ms > MAX_RETENTION_DAYS * 86_400_000
  ) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `retentionMs must be a positive number of at most ${MAX_RETENTION_DAYS} days`,
    );
  }
}

export function assertPageSize(numItems: unknown): void {
  assertIntInRange(numItems, "paginationOpts.numItems", 1, MAX_PAGE_SIZE);
}
