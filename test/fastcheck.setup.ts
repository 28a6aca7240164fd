import fc from "fast-check";
import { execSync } from "node:child_process";

/**
 * The fast-check seed for this run, printed so any failure can be replayed
 * with FC_SEED=<seed>. FC_SEED wins; in CI (CI=true) the seed is derived from
 * the commit under test, so each commit explores new cases and a rerun of the
 * same commit sees the same ones; locally it is random. See docs/development.md.
 */
function seed(): number {
  const fixed = process.env.FC_SEED;
  if (fixed !== undefined && fixed !== "") {
    const n = Number(fixed);
    if (!Number.isSafeInteger(n)) throw new Error(`FC_SEED must be an integer, got ${fixed}`);
    return n;
  }
  if (process.env.CI) {
    const commit = headCommit();
    if (commit !== undefined) return seedOfCommit(commit);
  }
  return Math.floor(Math.random() * 2 ** 31);
}

function headCommit(): string | undefined {
  try {
    return execSync("git rev-parse HEAD", { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return undefined; // not a git checkout: a random seed, printed like any other
  }
}

/** A 31-bit seed from a commit hash (FNV-1a). */
function seedOfCommit(commit: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < commit.length; i++) h = Math.imul(h ^ commit.charCodeAt(i), 0x01000193);
  return (h >>> 0) & 0x7fffffff;
}

const chosen = seed();
fc.configureGlobal({ seed: chosen });
console.log(`fast-check seed ${chosen} (replay: FC_SEED=${chosen})`);
