import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { END, START, withResults } from "../scripts/readme-sync.js";

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), "utf8");

describe("README", () => {
  const readme = read("README.md");

  test("opens with the two commands a fresh machine runs", () => {
    const opening = readme.split("\n").slice(0, 6).join("\n");
    expect(opening).toContain("npm ci && npm run demo");
    expect(opening).toContain("npm test");
  });

  test("its performance section is exactly bench/RESULTS.md", () => {
    expect(readme).toContain(START);
    expect(readme).toContain(END);
    expect(withResults(readme, read("bench/RESULTS.md"))).toBe(readme);
  });

  test("every promise the bench enforces is stated in the performance section", async () => {
    const { PROMISES } = await import("../bench/promises.js");
    const section = readme.slice(readme.indexOf(START), readme.indexOf(END));
    for (const p of PROMISES) expect(section).toContain(p.text);
  });
});
