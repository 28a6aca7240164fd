import type { FunctionReturnType, PaginationOptions, PaginationResult } from "convex/server";
import type { Infer, Validator } from "convex/values";
import type { ComponentApi } from "../component/_generated/component.js";
import { assertWriteCtx, type RunMutationCtx, type RunQueryCtx } from "./ctx.js";
import { ErrorCode, guardError, isGuardError } from "../component/lib/errors.js";
import { assertEventInput, metadataJson, retentionDaysToMs } from "../component/audit/checks.js";
import { formatEvents } from "../component/audit/export.js";
import { eventLeaf, isHash, secretMatches } from "../component/audit/leaf.js";
import { GENESIS_HASH, rootFromPath, sealHash } from "../component/audit/merkle.js";
import { assertRedactPaths, getPath } from "../component/audit/redaction.js";
import { linkSlot } from "../component/audit/skips.js";
import {
  MAX_PROOF_SEALS,
  SEAL_BATCH,
  SYSTEM_ACTION_PREFIX,
  vAuditEvent,
  vProof,
  type AuditEvent,
  type AuditSeal,
  type AuditEventInput,
  type AuditListFilter,
  type Subject,
  auditArgs,
} from "../component/audit/model.js";
import type { GuardAuditEvent } from "./auditSink.js";
import { validatorMismatch } from "./validatorMismatch.js";
import {
  configObject,
  mutateComponent,
  optionsObject,
  queryComponent,
  requiredObject,
} from "./checkArgs.js";

export type { AuditEvent, AuditEventInput, AuditListFilter } from "../component/audit/model.js";

/** Any ctx that can run a component query (query, mutation or action ctx). */
export type AuditQueryCtx = RunQueryCtx;
/** Any ctx that can run a component mutation (mutation or action ctx). */
export type AuditMutationCtx = RunMutationCtx;

type Api = ComponentApi;
export type AuditVerifyResult = FunctionReturnType<Api["audit"]["verify"]>;
export type AuditHead = FunctionReturnType<Api["audit"]["head"]>;
export type AuditProof = NonNullable<FunctionReturnType<Api["audit"]["proof"]>>;

/** Per-action metadata validators; `{}` (the default) means any action string, any metadata. */
export type AuditActions = Record<string, Validator<any, "required" | "optional", any>>;

/** Actions convex-guard logs itself (retention runs, erasures, confirmations). Always accepted. */
export { SYSTEM_ACTION_PREFIX };
export { CSV_COLUMNS } from "../component/audit/export.js";

type ActionName<A extends AuditActions> = [keyof A] extends [never]
  ? string
  : Extract<keyof A, string>;
type MetadataOf<A extends AuditActions, K> = K extends keyof A
  ? undefined extends Infer<A[K]>
    ? { metadata?: Infer<A[K]> }
    : { metadata: Infer<A[K]> }
  : { metadata?: any };

/**
 * The event `log` takes: `action` is one of `actions` (when typed) and
 * `metadata` matches its validator, or an event of convex-guard's own clients
 * (`guard.*`), so every `AuditLog` is an `AuditSink`.
 */
export type AuditLogEvent<A extends AuditActions = {}> =
  | {
      [K in ActionName<A>]: Omit<AuditEventInput, "action" | "metadata"> & {
        action: K;
      } & MetadataOf<A, K>;
    }[ActionName<A>]
  | GuardAuditEvent;

export type AuditLogOptions<A extends AuditActions = {}> = {
  /** Metadata validator per action; when given, `log` rejects other actions (except `guard.*`). */
  actions?: A;
  /** Paths stored as salted commitments: reason, actor.name, context.<field>, metadata.<path>. */
  redact?: string[];
  /** Events are deleted (payload; hashes stay) this long after they are recorded. Default: kept forever. */
  retention?: { days: number };
};

const VERIFY_FIELDS = ["cursor", "maxEvents", "anchor", "stalledAfterMs"] as const;

export type AuditListArgs = AuditListFilter & { paginationOpts: PaginationOptions };
export type AuditExportArgs = AuditListArgs & { format: "jsonl" | "csv" };
export type AuditExportPage = { data: string; isDone: boolean; continueCursor: string };

/**
 * A tamper-evident audit log written inside the host's transaction.
 *
 * ```ts
 * const audit = new AuditLog(components.guard, { redact: ["context.ip"], retention: { days: 365 } });
 * await audit.log(ctx, { action: "user.delete", actor: { type: "user", id }, outcome: "success" });
 * ```
 */
export class AuditLog<A extends AuditActions = {}> {
  private readonly redact: string[];
  private readonly retentionMs: number | undefined;

  constructor(
    private readonly component: ComponentApi,
    private readonly options: AuditLogOptions<A> = {},
  ) {
    configObject(options, "options", ["actions", "redact", "retention"]);
    this.redact = [...(options.redact ?? [])];
    assertRedactPaths(this.redact, ErrorCode.INVALID_CONFIG);
    this.retentionMs =
      options.retention === undefined ? undefined : retentionDaysToMs(options.retention.days);
    if (
      options.actions !== undefined &&
      (typeof options.actions !== "object" || options.actions === null)
    ) {
      throw guardError(
        ErrorCode.INVALID_CONFIG,
        "actions must be an object of metadata validators",
      );
    }
  }

  /**
   * Appends an event in the caller's transaction (it rolls back with it) and
   * returns its id. With `eventId`, a repeat with the same content returns the
   * first id; different content throws CONFLICT. Throws INVALID_ARGUMENT /
   * TOO_LARGE for bad input, and INVALID_ARGUMENT, before calling the
   * component, for an event the typed `actions` refuse.
   */
  async log(ctx: AuditMutationCtx, event: AuditLogEvent<A>): Promise<string> {
    assertWriteCtx(ctx, "AuditLog.log", "list, get, verify, head or proof");
    const e = requiredObject(event as AuditEventInput, "event");
    // Metadata that is not a Convex value never reaches the component: check it here.
    if (e.metadata !== undefined) metadataJson(e.metadata);
    const mismatch = this.actionMismatch(e);
    if (mismatch !== null) {
      // The component's input checks first, so a code does not depend on which side found a
      // problem. A malformed shape fails them uncoded (the component's validator would report
      // it); the mismatch is then the error to give.
      try {
        assertEventInput(e);
      } catch (inputError) {
        if (isGuardError(inputError)) throw inputError;
      }
      throw guardError(ErrorCode.INVALID_ARGUMENT, mismatch);
    }
    return mutateComponent(ctx, this.component.audit.log, auditArgs.log, {
      event: e,
      redact: this.redact.length > 0 ? this.redact : undefined,
      retentionMs: this.retentionMs,
    });
  }

  /**
   * Why typed `actions` reject the event, or null. The validators are the
   * host's and cannot cross the boundary, so the client refuses the event
   * before calling the component, which takes no message from its caller.
   */
  private actionMismatch(e: AuditEventInput): string | null {
    const actions = this.options.actions;
    if (actions === undefined || typeof e.action !== "string") return null;
    if (e.action.startsWith(SYSTEM_ACTION_PREFIX)) return null;
    const validator = Object.prototype.hasOwnProperty.call(actions, e.action)
      ? actions[e.action]
      : undefined;
    if (validator === undefined) return `unknown audit action ${JSON.stringify(e.action)}`;
    const mismatch = validatorMismatch(validator, e.metadata);
    return mismatch === null ? null : `action ${e.action}: ${mismatch}`;
  }

  /**
   * One page of events, newest first unless `order: "asc"`. Supported
   * filters: at most one of actor, target, action, outcome, each optionally
   * with tenant and a `recordedAt` range [from, to]. Other combinations throw
   * INVALID_ARGUMENT. Redacted fields are absent (see `get` with reveal).
   */
  async list(ctx: AuditQueryCtx, args: AuditListArgs): Promise<PaginationResult<AuditEvent>> {
    const page = await queryComponent(ctx, this.component.audit.list, auditArgs.list, args);
    return page as PaginationResult<AuditEvent>;
  }

  /** One event or null. `reveal: true` puts back redacted values that were not erased. Throws INVALID_ARGUMENT for a malformed id. */
  async get(
    ctx: AuditQueryCtx,
    id: string,
    opts: { reveal?: boolean } = {},
  ): Promise<AuditEvent | null> {
    const reveal = optionsObject(opts, "opts", ["reveal"])?.reveal;
    return queryComponent(ctx, this.component.audit.get, auditArgs.get, { id, reveal });
  }

  /**
   * Verifies one bounded page of the chain (at most `maxEvents` events, default
   * and maximum 512); call again with `cursor` while `done` is false. With
   * `anchor` (a `head().anchor` published outside Convex) it fails unless the
   * chain extends that head. The last page reports the unsealed backlog and
   * fails with `sealing_stalled` when its oldest event is older than
   * `stalledAfterMs` (default 5 minutes). A break is reported in the result,
   * never thrown; throws INVALID_ARGUMENT only for a cursor or anchor this
   * log did not issue, or a bad `maxEvents` / `stalledAfterMs`.
   */
  async verify(
    ctx: AuditQueryCtx,
    args: {
      cursor?: string | null;
      maxEvents?: number;
      anchor?: string;
      stalledAfterMs?: number;
    } = {},
  ): Promise<AuditVerifyResult> {
    const o = optionsObject(args, "args", VERIFY_FIELDS) ?? {};
    return queryComponent(ctx, this.component.audit.verify, auditArgs.verify, {
      ...o,
      cursor: o.cursor === undefined ? null : o.cursor,
    });
  }

  /**
   * The latest seal `{ n, toSeq, root, hash, sealedAt, anchor }`, or null
   * before the first seal. Publish `anchor` (a short string) somewhere an
   * admin of this deployment cannot rewrite, and pass it to `verify` later.
   */
  async head(ctx: AuditQueryCtx): Promise<AuditHead> {
    return queryComponent(ctx, this.component.audit.head, auditArgs.head, {});
  }

  /**
   * Inclusion proof of a sealed event up to the head (or seal `headN`); null while unsealed.
   * It holds the skip path of seals, at most 2·log2(n) + 1 of them however old the event is.
   * Throws INVALID_ARGUMENT (malformed id, bad `headN`), NOT_FOUND (no such event, or no seal
   * covers it), CORRUPT_STATE (a tampered seal range or number, or a missing seal: run `verify`).
   */
  async proof(
    ctx: AuditQueryCtx,
    id: string,
    opts: { headN?: number } = {},
  ): Promise<AuditProof | null> {
    const headN = optionsObject(opts, "opts", ["headN"])?.headN;
    return queryComponent(ctx, this.component.audit.proof, auditArgs.proof, { id, headN });
  }

  /** Seals one bounded batch of events now (the maintenance loop also does this on its own). */
  async seal(ctx: AuditMutationCtx): Promise<{ processed: number; more: boolean }> {
    assertWriteCtx(ctx, "AuditLog.seal", "list, get, verify, head or proof");
    return mutateComponent(ctx, this.component.audit.seal, auditArgs.seal, {});
  }

  /**
   * Right to erasure: deletes the stored values of redacted fields of every
   * event that names `subject` as actor or target; commitments (and so all
   * hashes) stay. One bounded batch per call; repeat while `done` is false.
   * Each call is itself logged as a `guard.audit.erase` event. Throws
   * INVALID_ARGUMENT / TOO_LARGE for a bad subject or actor.
   */
  async erase(
    ctx: AuditMutationCtx,
    args: { subject: Subject; actor?: { type: string; id: string; name?: string } },
  ): Promise<{ erased: number; done: boolean }> {
    assertWriteCtx(ctx, "AuditLog.erase", "list, get, verify, head or proof");
    const o = requiredObject(args, "args", ["subject", "actor"]);
    return mutateComponent(ctx, this.component.audit.erase, auditArgs.erase, {
      ...o,
      retentionMs: this.retentionMs,
    });
  }

  /** One page of `list`, formatted as JSON Lines or CSV (the CSV header on the first page). Throws as `list` does, and for another format. */
  async export(ctx: AuditQueryCtx, args: AuditExportArgs): Promise<AuditExportPage> {
    const { format, ...listArgs } = requiredObject(args, "args");
    if (format !== "jsonl" && format !== "csv") {
      throw guardError(
        ErrorCode.INVALID_ARGUMENT,
        `format must be "jsonl" or "csv", got ${JSON.stringify(format)}`,
      );
    }
    const page = await this.list(ctx, listArgs);
    const first = args.paginationOpts.cursor === null;
    const data = formatEvents(page.page, format, first);
    return { data, isDone: page.isDone, continueCursor: page.continueCursor };
  }
}

// ---- proofs ----

/** Audit path entries a proof can need: one per tree level of a batch of at most SEAL_BATCH. */
const MAX_AUDIT_PATH = Math.ceil(Math.log2(SEAL_BATCH));
/** Skip links a seal can hold: tz(n) for a safe seal number. */
const MAX_SKIPS = 53;

/**
 * Whether `proof` and `event` have the shapes `proof` and `get` return, with
 * hex where hashes go; sizes are checked before anything is walked, so a huge
 * array costs nothing.
 */
function wellFormed(event: unknown, proof: unknown, headHash: unknown): boolean {
  if (!isHash(headHash) || typeof proof !== "object" || proof === null) return false;
  const { seals, path } = proof as { seals?: unknown; path?: unknown };
  if (!Array.isArray(seals) || seals.length === 0 || seals.length > MAX_PROOF_SEALS) return false;
  if (!Array.isArray(path) || path.length > MAX_AUDIT_PATH || !path.every(isHash)) return false;
  for (const s of seals as unknown[]) {
    if (typeof s !== "object" || s === null) return false;
    const { skips, root, prevHash, hash, commits } = s as Record<string, unknown>;
    if (!Array.isArray(skips) || skips.length > MAX_SKIPS || !skips.every(isHash)) return false;
    if (![root, prevHash, hash, commits].every(isHash)) return false;
  }
  return (
    validatorMismatch(vProof, proof) === null && validatorMismatch(vAuditEvent, event) === null
  );
}

/**
 * Checks, without any database, that `event` (as `get` returned it, revealed
 * or not) is in the log whose head seal hash is `headHash`: revealed values
 * against their commitments, its leaf, the audit path to its seal's root,
 * and the skip path of seals up to the head (each seal's hash recomputed,
 * each linked to the one before it by `prevHash` or `skips`). Returns false
 * for anything else, including arguments of the wrong shape; it never throws.
 */
export async function verifyProof(
  event: AuditEvent,
  proof: AuditProof,
  headHash: string,
): Promise<boolean> {
  if (!wellFormed(event, proof, headHash)) return false;
  try {
    return await proofHolds(event, proof, headHash);
  } catch {
    // A value the shape check let through but hashing refuses proves nothing.
    return false;
  }
}

async function proofHolds(event: AuditEvent, proof: AuditProof, headHash: string) {
  const first = proof.seals[0];
  const head = proof.seals[proof.seals.length - 1];
  if (first === undefined || head === undefined || event.seq !== proof.seq) return false;
  // A revealed value counts only with the salt that binds it to its commitment.
  for (const c of event.redacted ?? []) {
    const value = getPath(event, c.path);
    if (value === undefined) continue;
    const salt = event.salts?.find((s) => s.path === c.path)?.salt;
    if (!(await secretMatches(salt, value, c.commitment))) return false;
  }
  const leaf = await eventLeaf(event);
  if (first.fromSeq + proof.index !== event.seq || first.toSeq - first.fromSeq + 1 !== proof.size)
    return false;
  if ((await rootFromPath(leaf, proof.index, proof.size, proof.path)) !== first.root) return false;
  let prev: AuditSeal | null = null;
  for (const s of proof.seals) {
    if (prev !== null && !linksTo(s, prev)) return false;
    if ((await sealHash(s)) !== s.hash) return false;
    prev = s;
  }
  return head.hash === headHash && (first.n > 0 || first.prevHash === GENESIS_HASH);
}

/** Whether seal `s` commits to the hash of the older seal `older` (skips.ts). */
function linksTo(s: AuditSeal, older: AuditSeal): boolean {
  const slot = linkSlot(older.n, s.n);
  if (slot === null) return false;
  if (slot === 0) return s.prevHash === older.hash;
  return s.skips[slot - 1] === older.hash;
}
