// @vitest-environment node
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";
import { compareGenerated, compilerOptions } from "../../scripts/convex/compareTypes.js";

// Inside the repository, so `convex/server` resolves from its node_modules.
const root = fileURLToPath(new URL("../../", import.meta.url));
mkdirSync(join(root, ".tmp"), { recursive: true });
const dir = mkdtempSync(join(root, ".tmp", "compare-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function componentTs(name: string, fns: Record<string, string>): string {
  const file = join(dir, `${name}.ts`);
  const entries = Object.entries(fns).map(([fn, ref]) => `    ${fn}: ${ref};`);
  writeFileSync(
    file,
    `import type { FunctionReference } from "convex/server";
export type ComponentApi<Name extends string | undefined = string | undefined> = {
  audit: {
${entries.join("\n")}
  };
};
`,
  );
  return file;
}

test("a function whose types differ is named, with both types; spelling alone is no difference", () => {
  const committed = componentTs("committed", {
    head: `FunctionReference<"query", "internal", {}, { n: number } | null, Name>`,
    log: `FunctionReference<"mutation", "internal", { a: string } & { b?: number }, string, Name>`,
    list: `FunctionReference<"query", "internal", {}, Array<string>, Name>`,
  });
  const official = componentTs("official", {
    head: `FunctionReference<"query", "internal", {}, any, Name>`,
    log: `FunctionReference<"mutation", "internal", { b?: number; a: string }, string, Name>`,
    seal: `FunctionReference<"mutation", "internal", {}, null, Name>`,
  });
  const diffs = compareGenerated(
    [{ name: "component.ts", committed, official }],
    dir,
    compilerOptions(join(root, "tsconfig.json")),
  );
  expect(diffs.map((d) => d.split("\n")[0]).sort()).toEqual([
    "component.ts ComponentApi.audit.head: returns differ",
    "component.ts ComponentApi.audit.list: only in the committed file",
    "component.ts ComponentApi.audit.seal: missing from the committed file",
  ]);
  expect(diffs.find((d) => d.includes("audit.head"))).toMatch(
    /committed: \{ n: number; \} \| null/,
  );
});

test("a file only one side has is reported", () => {
  const official = componentTs("onlyOfficial", {});
  expect(compareGenerated([{ name: "component.ts", official }], dir, {})).toEqual([
    "component.ts: the official CLI generates it; it is not committed",
  ]);
});
