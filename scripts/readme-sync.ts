/**
 * docs/performance.md holds bench/RESULTS.md, copied verbatim between the
 * markers below. A full `npm run bench` calls this after writing RESULTS.md;
 * test/docs/docs.test.ts fails if the two ever differ.
 *
 * Usage: tsx scripts/readme-sync.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const START =
  "<!-- BENCH:START (generated from bench/RESULTS.md by scripts/readme-sync.ts) -->";
export const END = "<!-- BENCH:END -->";
/** The page that holds the generated results, relative to the repository root. */
export const PERFORMANCE_PAGE = "docs/performance.md";

const root = fileURLToPath(new URL("..", import.meta.url));

/** `page` with the text between its markers replaced by `results`. */
export function withResults(page: string, results: string): string {
  const from = page.indexOf(START);
  const to = page.indexOf(END);
  if (from === -1 || to < from)
    throw new Error(`readme-sync: ${PERFORMANCE_PAGE} has no BENCH:START/BENCH:END markers`);
  return `${page.slice(0, from + START.length)}\n${results.trim()}\n${page.slice(to)}`;
}

/** Rewrites the performance page from bench/RESULTS.md; returns whether it changed. */
export function syncPerformancePage(): boolean {
  const path = `${root}${PERFORMANCE_PAGE}`;
  const page = readFileSync(path, "utf8");
  const next = withResults(page, readFileSync(`${root}bench/RESULTS.md`, "utf8"));
  if (next === page) return false;
  writeFileSync(path, next);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(
    syncPerformancePage()
      ? `readme-sync: ${PERFORMANCE_PAGE} updated`
      : "readme-sync: already in sync",
  );
}
