/** Markdown helpers shared by the bench's report renderers. */

/** A number for a table cell, with thousands separators; "–" when not measured. */
export const n = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined
    ? "–"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits });

export const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
