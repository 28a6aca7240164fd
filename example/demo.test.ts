/**
 * Keeps `npm run demo` (the README's first command) green: runs its main()
 * with the transcript silenced and expects every step to pass.
 */
import { expect, test, vi } from "vitest";
import { main } from "./demo.js";

test("npm run demo: every step behaves as the transcript says", async () => {
  const lines: string[] = [];
  const log = vi
    .spyOn(console, "log")
    .mockImplementation((...args: unknown[]) => void lines.push(args.join(" ")));
  try {
    const code = await main();
    expect(lines.filter((l) => l.includes("✗"))).toEqual([]);
    expect(code).toBe(0);
    expect(lines.at(-1)).toMatch(/demo: \d+ passed, 0 failed/);
  } finally {
    log.mockRestore();
  }
});
