import type { Value } from "convex/values";
import { assertStorableValue } from "../lib/values.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { canonicalJson } from "../lib/hash.js";
import {
  assertIntInRange,
  assertKey,
  assertPositive,
  byteLength,
  isWellFormed,
} from "../lib/validate.js";
import { DAY, HOUR, MINUTE } from "../lib/time.js";
import type { CodeFormat, CodeLimit, CodeMacs, CodeState, CodeTarget } from "./model.js";

/**
 * Confirmation-code rules as pure functions: the component's input checks,
 * the checks of what only the host sees (secrets, code format, payload, the
 * typed code), and the state machine of one (subject, action).
 */

export const MIN_DIGITS = 6; // NIST SP 800-63B: at least 20 bits.
export const MAX_DIGITS = 12;
export const MIN_ALPHANUMERIC = 6;
export const MAX_ALPHANUMERIC = 64;
export const MAX_TTL = DAY;
/** How long an expired or consumed code keeps answering "expired"/"used" before it is deleted. */
export const MAX_GRACE = 7 * DAY;
export const MAX_ATTEMPTS_LIMIT = 100; // NIST: no more than 100 consecutive failures.
export const MIN_SECRET_BYTES = 32;
export const MAX_SECRET_BYTES = 4096;
export const MAX_PAYLOAD_BYTES = 8 * 1024;
export const MAX_CODE_INPUT_BYTES = 256;
/** The exact sliding window keeps one timestamp per admission, so it is capped. */
export const MAX_LIMIT_RATE = 1000;
export const MAX_LIMIT_PERIOD = 30 * DAY;

export const DEFAULTS = {
  digits: 8,
  ttl: 10 * MINUTE,
  grace: DAY,
  maxAttempts: 5,
  issueLimit: { rate: 5, period: 10 * MINUTE },
  failureLimit: { rate: 10, period: HOUR },
} as const;

/** Reserved limiter names; the host's own limit names cannot start with "guard:". */
export const ISSUE_LIMIT_NAME = "guard:codes:issue";
export const FAILURE_LIMIT_NAME = "guard:codes:failure";

export function assertSubjectAction(subject: unknown, action: unknown): void {
  assertKey(subject, "subject");
  assertKey(action, "action");
}

/** The payload's canonical JSON; throws if it is not a storable value of bounded size. */
export function canonicalPayload(payload: Value | undefined): string {
  assertStorableValue(payload ?? null, "payload", 0);
  let json: string;
  try {
    json = canonicalJson(payload === undefined ? null : payload);
  } catch {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      "payload must be a Convex value (finite numbers only)",
    );
  }
  const bytes = byteLength(json);
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `payload is ${bytes} bytes as canonical JSON; the limit is ${MAX_PAYLOAD_BYTES}`,
      {
        bytes,
        limit: MAX_PAYLOAD_BYTES,
      },
    );
  }
  return json;
}

/** The code a caller submits: any string up to 256 bytes (a wrong one is a failed attempt, not an error). */
export function assertCodeInput(code: unknown): asserts code is string {
  if (typeof code !== "string" || !isWellFormed(code))
    throw guardError(ErrorCode.INVALID_ARGUMENT, "code must be a well-formed string");
  const bytes = byteLength(code);
  if (bytes > MAX_CODE_INPUT_BYTES) {
    throw guardError(
      ErrorCode.TOO_LARGE,
      `code is ${bytes} bytes; the limit is ${MAX_CODE_INPUT_BYTES}`,
      {
        bytes,
        limit: MAX_CODE_INPUT_BYTES,
      },
    );
  }
}

/** An HMAC key. Its message never includes the value. */
export function assertSecret(secret: unknown, what = "secret"): asserts secret is string {
  if (typeof secret !== "string")
    throw guardError(ErrorCode.INVALID_CONFIG, `${what} must be a string`);
  const bytes = byteLength(secret);
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw guardError(
      ErrorCode.INVALID_CONFIG,
      `${what} must be ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes (e.g. \`openssl rand -hex 32\`), got ${bytes}`,
    );
  }
}

export function assertFormat(format: {
  alphabet?: unknown;
  length?: unknown;
}): asserts format is CodeFormat {
  if (format.alphabet === "digits") {
    assertIntInRange(format.length, "digits", MIN_DIGITS, MAX_DIGITS, ErrorCode.INVALID_CONFIG);
  } else if (format.alphabet === "alphanumeric") {
    assertIntInRange(
      format.length,
      "alphanumeric",
      MIN_ALPHANUMERIC,
      MAX_ALPHANUMERIC,
      ErrorCode.INVALID_CONFIG,
    );
  } else {
    throw guardError(ErrorCode.INVALID_CONFIG, `alphabet must be "digits" or "alphanumeric"`);
  }
}

export function assertTtl(ttl: unknown): asserts ttl is number {
  assertPositive(ttl, "ttl", ErrorCode.INVALID_CONFIG);
  if (ttl > MAX_TTL)
    throw guardError(
      ErrorCode.INVALID_CONFIG,
      `ttl must be at most 24 hours (${MAX_TTL} ms), got ${ttl}`,
    );
}

export function assertGrace(grace: unknown): asserts grace is number {
  assertIntInRange(grace, "grace", 0, MAX_GRACE, ErrorCode.INVALID_CONFIG);
}

export function assertMaxAttempts(maxAttempts: unknown): asserts maxAttempts is number {
  assertIntInRange(maxAttempts, "maxAttempts", 1, MAX_ATTEMPTS_LIMIT, ErrorCode.INVALID_CONFIG);
}

export function assertLimit(
  limit: { rate?: unknown; period?: unknown },
  what: string,
): asserts limit is CodeLimit {
  assertIntInRange(limit.rate, `${what}.rate`, 1, MAX_LIMIT_RATE, ErrorCode.INVALID_CONFIG);
  assertPositive(limit.period, `${what}.period`, ErrorCode.INVALID_CONFIG);
  if (limit.period > MAX_LIMIT_PERIOD) {
    throw guardError(
      ErrorCode.INVALID_CONFIG,
      `${what}.period must be at most 30 days, got ${limit.period}`,
    );
  }
}

/** The most secrets a client tries a code under: the current one and up to 4 previous. */
export const MAX_PREVIOUS_SECRETS = 4;
export const MAX_CANDIDATES = 1 + MAX_PREVIOUS_SECRETS;

/** A MAC from the host: lower-case hex of 32 bytes (HMAC-SHA-256). */
export function assertMac(mac: unknown, what: string): asserts mac is string {
  if (typeof mac !== "string" || !/^[0-9a-f]{64}$/.test(mac))
    throw guardError(ErrorCode.INVALID_ARGUMENT, `${what} must be 64 lower-case hex characters`);
}

export function assertCodeMacs(macs: CodeMacs, what: string): void {
  assertMac(macs.codeMac, `${what}.codeMac`);
  assertMac(macs.payloadMac, `${what}.payloadMac`);
}

/** The configuration `issue` runs with (the code format is the client's own). */
export function assertIssueConfig(c: {
  ttl: unknown;
  grace: unknown;
  maxAttempts: unknown;
  issueLimit: { rate?: unknown; period?: unknown };
}): void {
  assertTtl(c.ttl);
  assertGrace(c.grace);
  assertMaxAttempts(c.maxAttempts);
  assertLimit(c.issueLimit, "issueLimit");
}

/** `issue`'s whole input, checked by the component (the trust boundary). */
export function assertIssueArgs(
  a: CodeTarget & CodeMacs & Parameters<typeof assertIssueConfig>[0],
) {
  assertSubjectAction(a.subject, a.action);
  assertCodeMacs(a, "issue");
  assertIssueConfig(a);
}

/** `consume`'s whole input: one MAC pair per secret the code may be under. */
export function assertConsumeArgs(
  a: CodeTarget & { candidates: CodeMacs[]; failureLimit: { rate?: unknown; period?: unknown } },
) {
  assertSubjectAction(a.subject, a.action);
  if (a.candidates.length < 1 || a.candidates.length > MAX_CANDIDATES) {
    throw guardError(
      ErrorCode.INVALID_ARGUMENT,
      `candidates must hold 1 to ${MAX_CANDIDATES} MAC pairs, got ${a.candidates.length}`,
    );
  }
  a.candidates.forEach((c, i) => assertCodeMacs(c, `candidates[${i}]`));
  assertLimit(a.failureLimit, "failureLimit");
}

// ---- host-side checks (the client runs them: these values never reach the component) ----

/** The secrets of a `Confirmations` client: the current one and those it still accepts. */
export function assertSecrets(secret: unknown, previous: unknown): asserts previous is string[] {
  assertSecret(secret);
  if (!Array.isArray(previous) || previous.length > MAX_PREVIOUS_SECRETS) {
    throw guardError(
      ErrorCode.INVALID_CONFIG,
      `previousSecrets must be an array of at most ${MAX_PREVIOUS_SECRETS} secrets`,
    );
  }
  previous.forEach((p) => assertSecret(p, "previousSecrets[]"));
  if (new Set([secret, ...previous]).size !== previous.length + 1)
    throw guardError(ErrorCode.INVALID_CONFIG, "secret and previousSecrets must all differ");
}

// ---- state machine ----

/** The part of a stored code the rules look at. */
export type CodeRecord = {
  state: CodeState;
  failures: number;
  maxAttempts: number;
  expiresAt: number;
};

/**
 * Failed attempts a new code for the same (subject, action) starts with. A
 * live (unexpired) row that was not consumed passes its count on, so neither
 * re-issuing nor revoking grants fresh guesses; a success or an expiry does.
 * `locked` means the carried count already reaches `maxAttempts`: issuing is
 * refused until the old code's expiry.
 */
export function carriedFailures(
  row: CodeRecord | null,
  maxAttempts: number,
  now: number,
): { failures: number } | { locked: true; retryAfter: number } {
  if (row === null || row.state === "consumed" || now >= row.expiresAt) return { failures: 0 };
  if (row.state === "locked" || row.failures >= maxAttempts)
    return { locked: true, retryAfter: row.expiresAt - now };
  return { failures: row.failures };
}

/**
 * Why a code cannot be tried at all (the attempt is not counted, since it
 * cannot succeed), or null when the submitted code must be checked.
 */
export function blockedReason(
  row: CodeRecord | null,
  now: number,
): { reason: "none" | "used" | "expired" } | { reason: "locked"; retryAfter: number } | null {
  if (row === null || row.state === "revoked") return { reason: "none" };
  if (row.state === "consumed") return { reason: "used" };
  if (now >= row.expiresAt) return { reason: "expired" };
  if (row.state === "locked" || row.failures >= row.maxAttempts)
    return { reason: "locked", retryAfter: row.expiresAt - now };
  return null;
}

/** The row after a wrong attempt: one more failure, locked at `maxAttempts`. */
export function afterFailure<R extends CodeRecord>(row: R): { failures: number; state: CodeState } {
  const failures = row.failures + 1;
  return { failures, state: failures >= row.maxAttempts ? "locked" : row.state };
}
