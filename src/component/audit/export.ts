import type { AuditEvent } from "./model.js";

/** Export formatting of `list` pages: JSON Lines, or CSV safe to open in a spreadsheet. */

export type ExportFormat = "jsonl" | "csv";

export const CSV_COLUMNS = [
  "id",
  "seq",
  "recordedAt",
  "occurredAt",
  "action",
  "outcome",
  "severity",
  "tenant",
  "actorType",
  "actorId",
  "actorName",
  "targets",
  "reason",
  "ip",
  "userAgent",
  "requestId",
  "metadata",
  "eventId",
  "leafHash",
];

function csvCells(e: AuditEvent): string[] {
  const s = (x: unknown) => (x === undefined ? "" : typeof x === "string" ? x : JSON.stringify(x));
  return [
    e.id,
    s(e.seq),
    new Date(e.recordedAt).toISOString(),
    new Date(e.occurredAt).toISOString(),
    e.action,
    e.outcome,
    s(e.severity),
    s(e.tenant),
    e.actor.type,
    e.actor.id,
    s(e.actor.name),
    s(e.targets),
    s(e.reason),
    s(e.context?.ip),
    s(e.context?.userAgent),
    s(e.context?.requestId),
    s(e.metadata),
    s(e.eventId),
    e.leafHash,
  ];
}

/**
 * A cell a spreadsheet shows as text: a leading quote on anything it could
 * run as a formula (`=`, `+`, `-`, `@`, tab or CR, after any leading
 * whitespace), and RFC 4180 quoting of cells holding a quote, a newline or a
 * delimiter (`,`, or `;` for locales that split on it).
 */
export function csvCell(cell: string): string {
  const safe = /^[\s\u00a0\ufeff]*[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
  return /[",;\r\n\t]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvRow(cells: string[]): string {
  return cells.map(csvCell).join(",") + "\r\n";
}

/** One page of events as text; the CSV header goes on the first page only. */
export function formatEvents(events: AuditEvent[], format: ExportFormat, first: boolean): string {
  if (format === "jsonl") return events.map((e) => JSON.stringify(e) + "\n").join("");
  return (first ? csvRow(CSV_COLUMNS) : "") + events.map((e) => csvRow(csvCells(e))).join("");
}
