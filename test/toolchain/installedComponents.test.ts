// @vitest-environment node
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { componentName, installedComponents } from "../../scripts/convex/installedComponents.js";

// Inside the repository, so `convex-guard` resolves through its tsconfig paths and
// `@convex-dev/rate-limiter` through node_modules, as in a host app.
const root = fileURLToPath(new URL("../../", import.meta.url));
mkdirSync(join(root, ".tmp"), { recursive: true });
const dir = mkdtempSync(join(root, ".tmp", "installed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(source: string): string {
  const app = mkdtempSync(join(dir, "app-"));
  writeFileSync(join(app, "convex.config.ts"), source);
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({ extends: join(root, "tsconfig.json"), compilerOptions: { baseUrl: root } }),
  );
  return join(app, "convex.config.ts");
}

describe("--app names components as the Convex CLI does", () => {
  test("by the package's defineComponent name, not the import's variable", () => {
    const file = config(`import { defineApp } from "convex/server";
import rl from "@convex-dev/rate-limiter/convex.config.js";
import g from "convex-guard/convex.config.js";
const app = defineApp();
app.use(rl);
app.use(g);
export default app;
`);
    expect(installedComponents(file)).toEqual([
      { name: "rateLimiter", from: "@convex-dev/rate-limiter" },
      { name: "guard", from: "convex-guard" },
    ]);
  });

  test("by an explicit name, whatever else the options hold (nested braces included)", () => {
    const file = config(`import { defineApp } from "convex/server";
import guard from "convex-guard/convex.config.js";
const app = defineApp();
app.use(guard, { httpPrefix: "/guard/", env: { A: "}" }, name: "security" });
export default app;
`);
    expect(installedComponents(file)).toEqual([{ name: "security", from: "convex-guard" }]);
  });

  test("a name that is not a string literal is an error, not a guess", () => {
    const file = config(`import { defineApp } from "convex/server";
import guard from "convex-guard/convex.config.js";
const name = "x";
const app = defineApp();
app.use(guard, { name });
export default app;
`);
    expect(() => installedComponents(file)).toThrow(/must be a string literal/);
  });

  test("our own definition is named guard", () => {
    expect(componentName(join(root, "src/component/convex.config.ts"))).toBe("guard");
  });
});
