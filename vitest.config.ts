import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

// Tests import the package by its name, exactly as a host app does; these
// aliases point the name at the sources so no build is needed first.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^convex-guard\/react$/, replacement: src("react/index.ts") },
      { find: /^convex-guard\/test$/, replacement: src("test.ts") },
      {
        find: /^convex-guard\/convex\.config(\.js)?$/,
        replacement: src("component/convex.config.ts"),
      },
      {
        find: /^convex-guard\/_generated\/component(\.js)?$/,
        replacement: src("component/_generated/component.ts"),
      },
      { find: /^convex-guard$/, replacement: src("client/index.ts") },
    ],
  },
  test: {
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test"] } },
    include: [
      "src/**/*.test.ts",
      "test/**/*.test.ts",
      "test/**/*.test.tsx",
      "example/**/*.test.ts",
    ],
    typecheck: { include: ["**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    testTimeout: 60_000,
    setupFiles: ["./test/fastcheck.setup.ts"],
  },
});
