import fc from "fast-check";

// Property tests explore new random cases on every local run. In CI they
// replay one fixed seed (override with FC_SEED), so a submission's verdict
// never depends on the draw; a counterexample found locally prints its seed
// and path for replay.
if (process.env.CI) fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261122) });
