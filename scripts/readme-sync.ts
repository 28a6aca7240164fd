/**
 * The README's performance section is bench/RESULTS.md, copied verbatim
 * between the markers below. A full `npm run bench` calls this after writing
 * RESULTS.md; test/readme.test.ts fails if the two ever differ.
 *
 * Usage: tsx scripts/readme-sync.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const START = "<!-- BENCH:START (generated from bench/RESULTS.md by scripts/readme-sync.ts) -->";
export const END = "<!-- BENCH:END -->";

const root = fileURLToPath(new URL("..", import.meta.url));

/** README text with its performance section replaced by `results`. */
export function withResults(readme: string, results: string): string {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from === -1 || to < from) throw new Error("readme-sync: the README has no BENCH:START/BENCH:END markers");
  return `${readme.slice(0, from + START.length)}\n${results.trim()}\n${readme.slice(to)}`;
}

export function syncReadme(): boolean {
  const readmePath = `${root}README.md`;
  const readme = readFileSync(readmePath, "utf8");
  const next = withResults(readme, readFileSync(`${root}bench/RESULTS.md`, "utf8"));
  if (next === readme) return false;
  writeFileSync(readmePath, next);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(syncReadme() ? "readme-sync: README performance section updated" : "readme-sync: already in sync");
}
