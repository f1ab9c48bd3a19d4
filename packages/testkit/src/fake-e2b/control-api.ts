/**
 * @module control-api — E2B's control-plane HTTP API as SDK 2.x calls it: create (`POST /v2/sandboxes`),
 * list (`GET /v2/sandboxes` with metadata/state filters and `x-next-token` paging), info, connect (resumes a
 * paused sandbox), timeout, pause, kill, and the template alias check. Errors are `{code, message}` with E2B's
 * statuses: 401 wrong key, 404 unknown sandbox or template, 409 already paused, 429 over the concurrency quota.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody } from "./connect-rpc.ts";
import type { FakeE2BState } from "./state.ts";

export type ControlRoute = "create" | "list" | "info" | "connect" | "timeout" | "pause" | "kill" | "template";

export interface Fault {
  /** Which call fails; `any` matches every control-API call. */
  route: ControlRoute | "any";
  status: number;
  message?: string;
  /** How many calls fail (default 1; Infinity for all until cleared). */
  times?: number;
  /** Never answer (the client's request timeout is what ends the call), instead of answering `status`. */
  hang?: boolean;
  /** The call takes effect but its answer never comes, as when the connection breaks after E2B acted (`status` unused). */
  answerLost?: boolean;
}

const defaultMessages: Record<number, string> = {
  401: "Invalid API key, it must start with 'e2b_' prefix and be valid",
  429: "Rate limit exceeded",
  500: "Internal server error",
  503: "Service temporarily unavailable",
};

export async function handleControl(state: FakeE2BState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://fake");
  const method = req.method ?? "GET";
  const body = method === "POST" || method === "PUT" ? await readJson(req) : undefined;
  const path = url.pathname;
  const route: ControlRoute | null =
    path === "/v2/sandboxes" ? (method === "POST" ? "create" : "list")
    : /^\/v2\/sandboxes\/[^/]+\/connect$/.test(path) ? "connect"
    : /^\/sandboxes\/[^/]+\/timeout$/.test(path) ? "timeout"
    : /^\/sandboxes\/[^/]+\/pause$/.test(path) ? "pause"
    : /^\/sandboxes\/[^/]+$/.test(path) ? (method === "DELETE" ? "kill" : "info")
    : path.startsWith("/templates/aliases/") ? "template"
    : null;
  state.calls.push({ method, path: path + url.search, route, body });

  if (req.headers["x-api-key"] !== state.apiKey) return error(res, 401, defaultMessages[401]);
  if (!route) return error(res, 404, `${method} ${path} is not imitated by the fake E2B API`);
  const fault = state.takeFault(route);
  if (fault?.hang) return;
  if (fault?.answerLost) res = unanswered;
  else if (fault) return error(res, fault.status, fault.message ?? defaultMessages[fault.status] ?? `injected failure ${fault.status}`);

  if (route === "create") {
    const templateID = String(body?.templateID ?? "base");
    const template = state.templates.get(templateID);
    if (!template) return error(res, 404, `template '${templateID}' not found`);
    if (state.maxSandboxes !== undefined && state.running().length >= state.maxSandboxes) {
      return error(res, 429, `you have reached the maximum number of concurrent E2B sandboxes (${state.maxSandboxes}). If you need more, please visit 'https://e2b.dev/docs/billing'`);
    }
    const sbx = await state.create(templateID, template, body ?? {});
    return json(res, 201, state.createdBody(sbx));
  }
  if (route === "list") {
    const metadata = metadataFilter(url.searchParams.get("metadata"));
    if (!metadata) return error(res, 400, "invalid key value pair in query");
    const states = (url.searchParams.get("state") ?? "running,paused").split(",");
    const all = state
      .live()
      .filter((s) => states.includes(s.state))
      .filter((s) => metadata.every(([k, v]) => s.metadata[k] === v))
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
    const start = Number(url.searchParams.get("nextToken") ?? 0) || 0;
    const limit = Number(url.searchParams.get("limit") ?? 100) || 100;
    const page = all.slice(start, start + limit);
    if (start + limit < all.length) res.setHeader("x-next-token", String(start + limit));
    return json(res, 200, page.map((s) => s.listed(state.envdVersion)));
  }
  if (route === "template") {
    const alias = decodeURIComponent(path.slice("/templates/aliases/".length));
    if (!state.templates.has(alias)) return error(res, 404, `template alias '${alias}' not found`);
    return json(res, 200, { templateID: alias, public: false });
  }

  const id = decodeURIComponent(path.split("/")[route === "connect" ? 3 : 2]);
  const sbx = state.sandboxes.get(id);
  if (!sbx || sbx.state === "killed") return error(res, 404, `sandbox "${id}" not found`);
  switch (route) {
    case "info":
      return json(res, 200, { ...sbx.listed(state.envdVersion), domain: state.domain, envdAccessToken: sbx.envdAccessToken });
    case "connect": {
      const timeout = Number(body?.timeout ?? 300);
      if (sbx.state === "paused") {
        sbx.resume(timeout);
        return json(res, 201, state.createdBody(sbx));
      }
      // A running sandbox's TTL is only ever extended by connect.
      if (Date.now() + timeout * 1000 > sbx.endAt.getTime()) sbx.setTimeout(timeout);
      return json(res, 200, state.createdBody(sbx));
    }
    case "timeout":
      if (sbx.state !== "running") return error(res, 404, `sandbox "${id}" is not running`);
      sbx.setTimeout(Number(body?.timeout ?? 15));
      res.writeHead(204).end();
      return;
    case "pause":
      if (sbx.state === "paused") return error(res, 409, `sandbox "${id}" is already paused`);
      sbx.pause();
      res.writeHead(204).end();
      return;
    case "kill":
      await state.kill(sbx);
      res.writeHead(204).end();
      return;
  }
}

/**
 * E2B's metadata filter, decoded as its API does: the query value unescaped once more, split into `k=v`
 * pairs, each side unescaped again (the SDK encodes keys and values before building the query).
 */
function metadataFilter(raw: string | null): Array<[string, string]> | null {
  if (!raw) return [];
  const unescape = (v: string) => decodeURIComponent(v.replace(/\+/g, " "));
  try {
    const pairs = unescape(raw).split("&").map((pair) => pair.split("="));
    if (pairs.some((p) => p.length !== 2)) return null;
    return pairs.map(([k, v]) => [unescape(k), unescape(v)]);
  } catch {
    return null;
  }
}

async function readJson(req: IncomingMessage): Promise<any> {
  const text = (await readBody(req, 1024 * 1024)).toString("utf8");
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}

/** Where the answer of a call whose answer is lost goes: nowhere, and the client's connection stays open. */
const unanswered = {
  setHeader() {},
  writeHead: () => unanswered,
  end() {},
} as unknown as ServerResponse;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function error(res: ServerResponse, code: number, message: string): void {
  json(res, code, { code, message });
}
