import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "edge-runtime",
    // What `npx convex env set GUARD_SECRET ...` gives a deployment.
    env: { GUARD_SECRET: "a test secret that is at least thirty-two bytes long" },
    server: { deps: { inline: ["convex-test"] } },
  },
});
