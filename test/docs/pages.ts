import { readdirSync, readFileSync } from "node:fs";

/** The repository root, for reading pages and the files they link to. */
export const root = new URL("../../", import.meta.url);

/** A file of the repository, as text. */
export const read = (path: string) => readFileSync(new URL(path, root), "utf8");

/** The pages a reader meets: the README, the component's README and every page in docs/. */
export const pages = [
  "README.md",
  "src/component/README.md",
  ...readdirSync(new URL("docs/", root))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
