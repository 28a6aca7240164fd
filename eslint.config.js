import js from "@eslint/js";
import tseslint from "typescript-eslint";
import convexPlugin from "@convex-dev/eslint-plugin";
import globals from "globals";

export default tseslint.config(
  {
    ignores: ["node_modules", "dist", ".tmp", "**/_generated/**", "scripts/pack-consumer/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      // Validators and test doubles need `any` in a few typed places; keep them visible.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-empty-object-type": "off",
    },
  },
  // Convex's own rules for the component and the example app's functions.
  ...convexPlugin.configs.recommended.map((c) => ({
    ...c,
    files: ["src/component/**/*.ts", "example/convex/**/*.ts"],
    ignores: ["**/*.test.ts"],
    // Type information lets the Convex rules tell a table's ids apart.
    languageOptions: { parserOptions: { projectService: true } },
  })),
);
