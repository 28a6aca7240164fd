import type { FunctionReturnType } from "convex/server";
import type { Value } from "convex/values";
import type { ComponentApi } from "../component/_generated/component.js";
import type { AuditSink, GuardAuditEvent } from "./auditSink.js";
import { assertWriteCtx, type RunMutationCtx, type RunQueryCtx } from "./ctx.js";
import type { CodeFormat, CodeLimit, CodeMacs } from "../component/codes/model.js";
import {
  codeMac,
  generateCode,
  normalizeCode,
  payloadDigestOfJson,
  payloadMac,
} from "../component/codes/crypto.js";
import {
  DEFAULTS,
  assertCodeInput,
  assertFormat,
  assertIssueConfig,
  assertLimit,
  assertSecrets,
  assertSubjectAction,
  canonicalPayload,
} from "../component/codes/rules.js";
import { ErrorCode, guardError, isGuardError } from "../component/lib/errors.js";
import { assertNoNullFields } from "../component/lib/validate.js";
import { mutateComponent, queryComponent, requiredObject } from "./checkArgs.js";
import { codeArgs } from "../component/codes/model.js";

type Api = ComponentApi;

/** Any ctx that can run a component query: a query, mutation or action ctx. */
export type ConfirmationsQueryCtx = RunQueryCtx;
/** Any ctx that can run a component mutation: a mutation ctx (or an action ctx, outside a transaction). */
export type ConfirmationsMutationCtx = RunMutationCtx;

type StoredIssueResult = FunctionReturnType<Api["codes"]["issue"]>;
/** `{ ok: true, codeId, code, expiresAt }` or `{ ok: false, reason: "rate_limited" | "locked", retryAfter }`. */
export type ConfirmationIssueResult =
  | Flat<Extract<StoredIssueResult, { ok: true }> & { code: string }>
  | Extract<StoredIssueResult, { ok: false }>;
type Flat<T> = { [K in keyof T]: T[K] };
/** `{ ok: true, codeId }` or `{ ok: false, reason, attemptsLeft?, retryAfter?, codeId? }`. */
export type ConfirmationConsumeResult = FunctionReturnType<Api["codes"]["consume"]>;
export type ConfirmationStatus = FunctionReturnType<Api["codes"]["status"]>;
export type ConfirmationRevokeResult = FunctionReturnType<Api["codes"]["revoke"]>;

export type ConfirmationsOptions = {
  /**
   * HMAC key, 32 to 4096 bytes: pass `process.env.GUARD_SECRET` (set it with
   * `npx convex env set GUARD_SECRET "$(openssl rand -hex 32)"`). Read and
   * checked on the first `issue` or `consume`, not here, so a module that
   * builds the client loads while the variable is unset (as when Convex
   * analyses a push); that first call then throws INVALID_CONFIG. Used only
   * in the host's own functions: never stored, never passed to the component.
   */
  secret: string | undefined;
  /**
   * Secrets you rotated away from, newest first (at most 4; unset entries,
   * `undefined` or "", are skipped). New codes use `secret`; a code issued
   * under one of these is still accepted until it expires. Drop them once the
   * longest `ttl` has passed since the rotation. Checked with `secret`.
   */
  previousSecrets?: (string | undefined)[];
  /** Numeric codes of this many digits, 6..12. Default 8. */
  digits?: number;
  /**
   * Instead of digits: codes of this many characters from
   * "23456789ABCDEFGHJKMNPQRSTUVWXYZ" (no look-alikes), 6..64.
   */
  alphanumeric?: number;
  /** Validity in ms, at most 24 hours. Default 10 minutes. */
  ttl?: number;
  /**
   * How long (ms) an expired or used code keeps answering `expired` / `used`
   * before its row is deleted, 0..7 days. Default 24 hours.
   */
  grace?: number;
  /** Wrong tries before a code locks, 1..100. Default 5. */
  maxAttempts?: number;
  /** Codes issued per (subject, action), exact sliding window. Default 5 per 10 minutes. */
  issueLimit?: CodeLimit;
  /** Wrong tries per (subject, action) across codes, exact sliding window. Default 10 per hour. */
  failureLimit?: CodeLimit;
  /** Records each issue, consume, failure, lockout and revoke (as `guard.confirmation.*`). */
  audit?: AuditSink;
};

export type ConfirmationTarget = { subject: string; action: string };
export type ConfirmationIssueArgs = ConfirmationTarget & { payload?: Value };
export type ConfirmationConsumeArgs = ConfirmationTarget & { payload?: Value; code: string };

/**
 * Fields `status` and `revoke` take: a (subject, action) target; `payload` is
 * allowed (and ignored) so the object given to `issue` can be passed as is.
 */
const TARGET_FIELDS = ["subject", "action", "payload"] as const;

/** Audit action names, in the `guard.` namespace an `AuditLog` always accepts. */
export const CONFIRMATION_AUDIT_ACTIONS = {
  issue: "guard.confirmation.issue",
  consume: "guard.confirmation.consume",
  fail: "guard.confirmation.fail",
  lockout: "guard.confirmation.lockout",
  revoke: "guard.confirmation.revoke",
} as const;

/**
 * Single-use confirmation codes bound to a subject, an action and a payload,
 * stored only as HMACs, with attempt limits that survive re-issue.
 *
 * Throws (ConvexError with `data.code`) only for bad configuration or input;
 * every outcome of a real attempt is returned, so it persists.
 */
export class Confirmations {
  /** The secret options as given; {@link secrets} checks them on first use. */
  private readonly secretOptions: Pick<ConfirmationsOptions, "secret" | "previousSecrets">;
  private checkedSecrets: readonly [string, ...string[]] | undefined;
  private readonly format: CodeFormat;
  private readonly ttl: number;
  private readonly grace: number;
  private readonly maxAttempts: number;
  private readonly issueLimit: CodeLimit;
  private readonly failureLimit: CodeLimit;
  private readonly audit: AuditSink | undefined;

  constructor(
    private readonly component: ComponentApi,
    options: ConfirmationsOptions,
  ) {
    if (typeof options !== "object" || options === null)
      throw guardError(ErrorCode.INVALID_CONFIG, "options are required");
    assertNoNullFields(options, ErrorCode.INVALID_CONFIG);
    if (options.digits !== undefined && options.alphanumeric !== undefined) {
      throw guardError(ErrorCode.INVALID_CONFIG, "give either digits or alphanumeric, not both");
    }
    const format: CodeFormat =
      options.alphanumeric !== undefined
        ? { alphabet: "alphanumeric", length: options.alphanumeric }
        : { alphabet: "digits", length: options.digits ?? DEFAULTS.digits };
    assertFormat(format);
    const config = {
      format,
      ttl: options.ttl ?? DEFAULTS.ttl,
      grace: options.grace ?? DEFAULTS.grace,
      maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
      issueLimit: { ...(options.issueLimit ?? DEFAULTS.issueLimit) },
      failureLimit: { ...(options.failureLimit ?? DEFAULTS.failureLimit) },
    };
    assertIssueConfig(config);
    assertLimit(config.failureLimit, "failureLimit");
    if (options.audit !== undefined && typeof options.audit?.log !== "function") {
      throw guardError(
        ErrorCode.INVALID_CONFIG,
        "audit must be an AuditLog (an object with a log method)",
      );
    }
    this.secretOptions = { secret: options.secret, previousSecrets: options.previousSecrets ?? [] };
    this.format = format;
    this.ttl = config.ttl;
    this.grace = config.grace;
    this.maxAttempts = config.maxAttempts;
    this.issueLimit = { rate: config.issueLimit.rate, period: config.issueLimit.period };
    this.failureLimit = { rate: config.failureLimit.rate, period: config.failureLimit.period };
    this.audit = options.audit;
  }

  /**
   * Issues a code for (subject, action, payload), superseding a pending one
   * (its failure count carries over). The result holds the plaintext code:
   * deliver it out of band, never through scheduler arguments or a table.
   * A refusal (`rate_limited`, `locked`) is returned; throws INVALID_ARGUMENT /
   * TOO_LARGE only for a bad subject, action or payload.
   */
  async issue(
    ctx: ConfirmationsMutationCtx,
    args: ConfirmationIssueArgs,
  ): Promise<ConfirmationIssueResult> {
    assertWriteCtx(ctx, "Confirmations.issue", "status");
    requiredObject(args, "args", ["subject", "action", "payload"]);
    const digest = await this.payloadDigestOf(args);
    const code = generateCode(this.format);
    const [secret] = this.secrets();
    const macs = await this.macs(secret, args, digest, code);
    const stored = await mutateComponent(ctx, this.component.codes.issue, codeArgs.issue, {
      subject: args.subject,
      action: args.action,
      ...macs,
      ttl: this.ttl,
      grace: this.grace,
      maxAttempts: this.maxAttempts,
      issueLimit: this.issueLimit,
    });
    const result: ConfirmationIssueResult = stored.ok ? { ...stored, code } : stored;
    await this.record(
      ctx,
      args,
      CONFIRMATION_AUDIT_ACTIONS.issue,
      result.ok ? "success" : "denied",
      {
        codeId: result.ok ? result.codeId : undefined,
        reason: result.ok ? undefined : result.reason,
        metadata: result.ok ? { expiresAt: result.expiresAt } : { retryAfter: result.retryAfter },
      },
    );
    return result;
  }

  /**
   * Tries `code` for (subject, action, payload). Returns every failure
   * (wrong code, other payload, expired, used, locked, none) instead of
   * throwing, so the counted attempt is stored. The host must then return
   * normally too: throwing after a failed consume rolls the count back.
   * Throws INVALID_ARGUMENT / TOO_LARGE only for malformed input (nothing counted).
   */
  async consume(
    ctx: ConfirmationsMutationCtx,
    args: ConfirmationConsumeArgs,
  ): Promise<ConfirmationConsumeResult> {
    assertWriteCtx(ctx, "Confirmations.consume", "status");
    requiredObject(args, "args", ["subject", "action", "payload", "code"]);
    const digest = await this.payloadDigestOf(args);
    assertCodeInput(args.code);
    const code = normalizeCode(args.code);
    const candidates: CodeMacs[] = [];
    for (const secret of this.secrets())
      candidates.push(await this.macs(secret, args, digest, code));
    const result = await mutateComponent(ctx, this.component.codes.consume, codeArgs.consume, {
      subject: args.subject,
      action: args.action,
      candidates,
      failureLimit: this.failureLimit,
    });
    if (result.ok) {
      await this.record(ctx, args, CONFIRMATION_AUDIT_ACTIONS.consume, "success", {
        codeId: result.codeId,
      });
    } else {
      // A counted failure that used up the last try is the lockout.
      const counted = result.reason === "invalid" || result.reason === "mismatch";
      const lockout = counted && result.attemptsLeft === 0;
      await this.record(
        ctx,
        args,
        lockout ? CONFIRMATION_AUDIT_ACTIONS.lockout : CONFIRMATION_AUDIT_ACTIONS.fail,
        "failure",
        {
          codeId: result.codeId,
          reason: result.reason,
          severity: lockout ? "warning" : "info",
          metadata: result.attemptsLeft === undefined ? {} : { attemptsLeft: result.attemptsLeft },
        },
      );
    }
    return result;
  }

  /** Whether a code is pending, when it expires and how many tries are left. Never the code. Throws for a bad subject or action. */
  async status(ctx: ConfirmationsQueryCtx, args: ConfirmationTarget): Promise<ConfirmationStatus> {
    const o = requiredObject(args, "args", TARGET_FIELDS);
    return queryComponent(ctx, this.component.codes.status, codeArgs.status, {
      subject: o.subject,
      action: o.action,
    });
  }

  /** Revokes the pending code of (subject, action), if any. Its failure count is kept until it expires. Throws for a bad subject or action. */
  async revoke(
    ctx: ConfirmationsMutationCtx,
    args: ConfirmationTarget,
  ): Promise<ConfirmationRevokeResult> {
    assertWriteCtx(ctx, "Confirmations.revoke", "status");
    const o = requiredObject(args, "args", TARGET_FIELDS);
    const result = await mutateComponent(ctx, this.component.codes.revoke, codeArgs.revoke, {
      subject: o.subject,
      action: o.action,
    });
    if (result.revoked) {
      await this.record(ctx, args, CONFIRMATION_AUDIT_ACTIONS.revoke, "success", {
        codeId: result.codeId,
      });
    }
    return result;
  }

  /**
   * The secret codes are issued under, then the previous ones still accepted:
   * read and checked on first use (a push's analysis loads the module
   * without the deployment's environment). Throws INVALID_CONFIG naming the
   * option and the fix while `secret` is unset or invalid.
   */
  private secrets(): readonly [string, ...string[]] {
    if (this.checkedSecrets === undefined) {
      const { secret, previousSecrets } = this.secretOptions;
      if (secret === undefined || secret === "") {
        throw guardError(
          ErrorCode.INVALID_CONFIG,
          "Confirmations: the `secret` option is unset. Set the variable you pass as `secret` once per deployment, " +
            'e.g. `npx convex env set GUARD_SECRET "$(openssl rand -hex 32)"` for `secret: process.env.GUARD_SECRET`',
          { client: "Confirmations", option: "secret" },
        );
      }
      const previous: unknown = Array.isArray(previousSecrets)
        ? previousSecrets.filter((p: unknown) => p !== undefined && p !== "")
        : previousSecrets;
      try {
        assertSecrets(secret, previous);
      } catch (e) {
        if (!isGuardError(e)) throw e;
        throw guardError(ErrorCode.INVALID_CONFIG, `Confirmations: ${e.data.message}`, {
          client: "Confirmations",
          option: "secret",
        });
      }
      this.checkedSecrets = [secret, ...previous];
    }
    return this.checkedSecrets;
  }

  /**
   * The payload's digest. Subject, action and payload are checked here, not
   * only in the component, because the MACs are built from them host-side
   * and the payload itself never reaches the component.
   */
  private async payloadDigestOf(args: ConfirmationIssueArgs): Promise<string> {
    assertSubjectAction(args?.subject, args?.action);
    return payloadDigestOfJson(canonicalPayload(args.payload));
  }

  /** The MAC pair of `code` for (subject, action, payload) under `secret`. */
  private async macs(
    secret: string,
    target: ConfirmationTarget,
    payloadDigest: string,
    code: string,
  ): Promise<CodeMacs> {
    const input = { secret, subject: target.subject, action: target.action, payloadDigest };
    return { codeMac: await codeMac(input, code), payloadMac: await payloadMac(input) };
  }

  /** One audit event, without the code, the secret or the payload. */
  private async record(
    ctx: ConfirmationsMutationCtx,
    target: ConfirmationTarget,
    action: GuardAuditEvent["action"],
    outcome: GuardAuditEvent["outcome"],
    extra: {
      codeId?: string;
      reason?: string;
      severity?: GuardAuditEvent["severity"];
      metadata?: Record<string, number>;
    },
  ): Promise<void> {
    if (this.audit === undefined) return;
    await this.audit.log(ctx, {
      action,
      actor: { type: "subject", id: target.subject },
      targets: extra.codeId === undefined ? [] : [{ type: "confirmation", id: extra.codeId }],
      outcome,
      ...(extra.reason === undefined ? {} : { reason: extra.reason }),
      ...(extra.severity === undefined ? {} : { severity: extra.severity }),
      metadata: { confirmationAction: target.action, ...extra.metadata },
    });
  }
}
