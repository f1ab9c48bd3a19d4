/**
 * A real Airlock server for the UI tests: `node --import tsx packages/server/src/main.ts` on a free port with a
 * temp data folder, plus the built UI (rebuilt first when a source file is newer than the build). `stop()`
 * removes every session first: sandboxes outlive the server by design.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const web = join(root, "packages/web");

export interface UiServer {
  url: string;
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** What the server printed (warnings and errors), to explain a failure. */
  log(): string;
  stop(): Promise<void>;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    newest = Math.max(newest, name.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the UI when `dist/` is missing or older than a source file (CI builds it at `npm ci`). */
export function ensureBuilt(): void {
  const index = join(web, "dist/index.html");
  const sources = Math.max(newestMtime(join(web, "src")), statSync(join(web, "index.html")).mtimeMs, newestMtime(join(root, "packages/protocol/src")));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  // NODE_ENV is "test" under vitest, and Vite would then bundle React's development build.
  execFileSync(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], {
    cwd: web,
    stdio: "inherit",
    timeout: 180_000,
    env: { ...process.env, NODE_ENV: "production" },
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startUiServer(env: Record<string, string> = {}): Promise<UiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "airlock-web-e2e-"));
  const port = await freePort();
  let output = "";
  const proc: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(root, "packages/server/src/main.ts")], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AIRLOCK_PORT: String(port), AIRLOCK_DATA_DIR: dataDir, AIRLOCK_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 30_000);
      proc.stdout!.on("data", (c: Buffer) => {
        output += c.toString();
        if (output.includes("Airlock is running at")) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.stderr!.on("data", (c: Buffer) => (output += c.toString()));
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited with ${code}:\n${output}`));
      });
    });
  } catch (err) {
    proc.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const api: UiServer["api"] = async (method, path, body) => {
    const res = await fetch(url + path, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return {
    url,
    api,
    log: () => output,
    async stop() {
      // Sandboxes outlive the server by design (it re-attaches on start): remove them first, or they leak.
      for (let before: string | null = null, pages = 0; proc.exitCode === null && pages < 20; pages++) {
        const page: { status: number; body: { sessions: Array<{ id: string }>; nextCursor: string | null } } = await api("GET", `/v1/sessions?limit=200${before ? `&before=${before}` : ""}`).catch(() => ({ status: 0, body: { sessions: [], nextCursor: null } }));
        await Promise.all(page.body.sessions.map((s) => api("DELETE", `/v1/sessions/${s.id}`).catch(() => {})));
        before = page.body.nextCursor;
        if (!before) break;
      }
      // DELETE answers at once and the sandbox goes in the background: wait until every session is final.
      for (const until = Date.now() + 15_000; proc.exitCode === null && Date.now() < until; ) {
        const page = await api<{ sessions: Array<{ final: boolean }> }>("GET", "/v1/sessions?limit=200").catch(() => null);
        if (!page || page.body.sessions.every((s) => s.final)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}
