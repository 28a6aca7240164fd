/**
 * A loopback stand-in for the two deployment endpoints `npx convex codegen`
 * calls, so the unmodified official CLI generates `_generated/` offline:
 *
 * - `POST /api/get_config_hashes`: the deployment's current modules (none).
 * - `POST /api/deploy2/start_push`: the analysis of the pushed bundles,
 *   computed by `analyze.ts` (the CLI's own bundles, imported in Node).
 *
 * Anything else is answered 404 and reported as an error. The server listens
 * on 127.0.0.1 only, on a free port, lives exactly as long as the one CLI
 * process it serves, and that process is killed after `timeoutMs`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync } from "node:zlib";
import { analyze, type PushRequest } from "./analyze.js";

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "br" ? brotliDecompressSync(raw) : raw;
}

function send(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

async function startPushResponse(request: PushRequest, workDir: string): Promise<unknown> {
  const analysis = await analyze(request, workDir);
  const app = analysis[""];
  const childComponents = Object.fromEntries(
    (app?.definition.childComponents ?? []).map((c) => [
      c.name,
      {
        definitionPath: c.path,
        componentPath: c.name,
        args: {},
        childComponents: {},
        httpRoutes: { httpModuleRoutes: null, mounts: [] },
        exports: {},
      },
    ]),
  );
  return {
    environmentVariables: {},
    externalDepsId: null,
    componentDefinitionPackages: {},
    appAuth: [],
    analysis,
    app: {
      definitionPath: "",
      componentPath: "",
      args: {},
      childComponents,
      httpRoutes: { httpModuleRoutes: null, mounts: [] },
      exports: {},
    },
    schemaChange: { allocatedComponentIds: {}, schemaIds: {} },
  };
}

export type CliRun = { code: number; stdout: string; stderr: string; unexpected: string[] };

/**
 * Runs `convex <args>` in `cwd` against the stand-in and resolves when the
 * CLI exits. `--url` and `--admin-key` are appended.
 */
export async function runConvexCli(
  cliMain: string,
  args: string[],
  cwd: string,
  timeoutMs = 60_000,
): Promise<CliRun> {
  const workDir = mkdtempSync(join(tmpdir(), "convex-standin-"));
  const unexpected: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.method === "POST" && req.url === "/api/get_config_hashes") {
          await body(req);
          return send(res, 200, {
            config: { functions: "convex/" },
            moduleHashes: [],
            nodeDependencies: [],
          });
        }
        if (req.method === "POST" && req.url === "/api/deploy2/start_push") {
          const request = JSON.parse((await body(req)).toString("utf8")) as PushRequest;
          return send(res, 200, await startPushResponse(request, workDir));
        }
        unexpected.push(`${req.method} ${req.url}`);
        send(res, 404, { code: "NotFound", message: `stand-in does not serve ${req.url}` });
      } catch (error) {
        unexpected.push(`${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
        send(res, 400, {
          code: "AnalyzeFailed",
          message: String((error as Error).message ?? error),
        });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    return await new Promise<CliRun>((resolve) => {
      const child = spawn(
        process.execPath,
        [cliMain, ...args, "--url", url, "--admin-key", "standin"],
        {
          cwd,
          env: { ...process.env, CONVEX_DEPLOYMENT: "", CONVEX_DEPLOY_KEY: "", CI: "true" },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => {
        stderr += `\nstand-in: convex ${args[0]} did not finish in ${timeoutMs} ms; killed`;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 1, stdout, stderr, unexpected });
      });
    });
  } finally {
    server.close();
    server.closeAllConnections();
    rmSync(workDir, { recursive: true, force: true });
  }
}
