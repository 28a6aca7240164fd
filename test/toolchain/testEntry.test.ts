import { readdirSync } from "node:fs";
import { join } from "node:path";
import { modules } from "convex-guard/test";
import { expect, test } from "vitest";

/**
 * `convex-guard/test` imports the component's function modules one by one (a
 * static list, so the built package loads in plain Node). A new module under
 * src/component/ must join the list in src/testing/register.ts, or its
 * functions are missing from every host's tests.
 */
test("convex-guard/test registers every top-level module of the component", () => {
  const dir = join(import.meta.dirname, "..", "..", "src", "component");
  const expected = readdirSync(dir)
    .filter((f) => /^[^.]+\.ts$/.test(f) && f !== "schema.ts")
    .map((f) => `./component/${f.replace(/\.ts$/, ".js")}`);
  const listed = Object.keys(modules).filter((k) => !k.includes("/_generated/"));
  expect(listed.sort()).toEqual(expected.sort());
});
