import { existsSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { END, PERFORMANCE_PAGE, START, withResults } from "../../scripts/readme-sync.js";
import { pages, read, root } from "./pages.js";

describe("README", () => {
  const readme = read("README.md");

  test("opens with the two commands a fresh machine runs", () => {
    const opening = readme.split("\n").slice(0, 6).join("\n");
    expect(opening).toContain("npm ci && npm run demo");
    expect(opening).toContain("npm test");
  });

  test("stays a landing page: at most 400 lines", () => {
    expect(readme.trimEnd().split("\n").length).toBeLessThanOrEqual(400);
  });

  test("links every page of docs/", () => {
    for (const page of pages.filter((p) => p.startsWith("docs/")))
      expect(readme.includes(`](${page})`), `README.md has no link to ${page}`).toBe(true);
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const headings = markdown.replace(/^```[\s\S]*?^```/gm, "").match(/^#{1,6} .*$/gm) ?? [];
  return new Set(
    headings.map((h) =>
      h
        .replace(/^#+ /, "")
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replace(/ /g, "-"),
    ),
  );
}

describe("docs", () => {
  test.each(pages.filter((p) => existsSync(new URL(p, root))))(
    "every relative link of %s points at a file and heading that exist",
    (page) => {
      const text = read(page).replace(/^```[\s\S]*?^```/gm, "");
      const dir = new URL(page.replace(/[^/]*$/, ""), root);
      for (const [, target = "", anchor] of text.matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const file = target === "" ? new URL(page, root) : new URL(target, dir);
        expect(existsSync(file), `${page} links to ${target}`).toBe(true);
        if (anchor !== undefined && file.pathname.endsWith(".md")) {
          expect(
            anchors(readFileSync(file, "utf8")),
            `${page} links to ${target}#${anchor}`,
          ).toContain(anchor);
        }
      }
    },
  );
});

test("docs/audit-log.md states the bench's tamper-fuzzer counts (bench/results.json)", () => {
  const results = JSON.parse(read("bench/results.json")) as {
    auditIntegrity: {
      fuzz: Record<"runs" | "verify" | "anchor" | "window" | "noop" | "other", number>;
    };
  };
  const f = results.auditIntegrity.fuzz;
  const page = read("docs/audit-log.md").replace(/\s+/g, " ");
  expect(page).toContain(
    `fixed seed for ${f.runs} tamperings (200 with \`--quick\`): ${f.verify} caught by \`verify\`, ` +
      `${f.anchor} only with an anchor, ${f.window} inside the unsealed window, ${f.noop} no-ops`,
  );
  expect(page).toContain(`, ${f.other} other,`);
});

describe(PERFORMANCE_PAGE, () => {
  const page = read(PERFORMANCE_PAGE);

  test("its generated section is exactly bench/RESULTS.md", () => {
    expect(page).toContain(START);
    expect(page).toContain(END);
    expect(withResults(page, read("bench/RESULTS.md"))).toBe(page);
  });

  test("states every promise the bench enforces", async () => {
    const { PROMISES } = await import("../../bench/promises.js");
    const section = page.slice(page.indexOf(START), page.indexOf(END));
    for (const p of PROMISES) expect(section).toContain(p.text);
  });
});
