/**
 * @module sandbox-server — the sandbox side of the fake: what E2B's edge proxy and each VM's envd answer.
 *
 * A request names its sandbox and port either with the `E2b-Sandbox-Id` / `E2b-Sandbox-Port` headers (what
 * the SDK sends to `sandboxUrl`, and what E2B's proxy honours on its shared host) or with a Host of the form
 * `PORT-ID.DOMAIN` (what `getHost(port)` returns). Port 49983 is envd, checked with `X-Access-Token`; any
 * other port is proxied to that port in the sandbox (the fake's sandboxes share the host's network, so that is
 * 127.0.0.1:PORT), checked with `e2b-traffic-access-token` when the sandbox was made with private ingress.
 * A paused or missing sandbox answers 502, as E2B's proxy does.
 */
import { type IncomingMessage, type ServerResponse, request } from "node:http";
import { ConnectError, ServerStream, decodeRequest, readBody, sendUnary, sendUnaryError, streamContentType } from "./connect-rpc.ts";
import { downloadFile, filesystemRpc, httpError, uploadFiles } from "./files.ts";
import { connectProcess, processRpc, startProcess } from "./process-rpc.ts";
import type { FakeSandbox } from "./sandbox.ts";
import type { FakeE2BState } from "./state.ts";
import type { VmUser } from "./vm.ts";

export const envdPort = 49983;

export async function handleSandbox(state: FakeE2BState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = routeOf(req);
  if (!target) return httpError(res, 400, "missing sandbox routing: send E2b-Sandbox-Id and E2b-Sandbox-Port, or use a PORT-ID.DOMAIN host");
  const sbx = state.sandboxes.get(target.id);
  if (!sbx || sbx.state === "killed") return gone(res, target.id, "The sandbox was not found");
  if (sbx.state === "paused") return gone(res, target.id, "The sandbox is paused");
  if (target.port === envdPort) return envd(state, sbx, req, res);
  if (sbx.trafficAccessToken && req.headers["e2b-traffic-access-token"] !== sbx.trafficAccessToken) {
    return httpError(res, 403, "missing or invalid traffic access token (e2b-traffic-access-token)");
  }
  proxy(sbx, target.port, req, res);
}

function routeOf(req: IncomingMessage): { id: string; port: number } | null {
  const id = req.headers["e2b-sandbox-id"];
  const port = req.headers["e2b-sandbox-port"];
  if (typeof id === "string" && typeof port === "string") return { id, port: Number(port) };
  const host = /^(\d+)-([a-z0-9]+)\./.exec(req.headers.host ?? "");
  return host ? { id: host[2], port: Number(host[1]) } : null;
}

function gone(res: ServerResponse, sandboxId: string, message: string): void {
  const body = JSON.stringify({ sandboxId, message, code: 502 });
  res.writeHead(502, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function envd(state: FakeE2BState, sbx: FakeSandbox, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://envd");
  if (url.pathname === "/health") {
    res.writeHead(204).end();
    return;
  }
  if (req.headers["x-access-token"] !== sbx.envdAccessToken) {
    return httpError(res, 401, "unauthorized access, please provide a valid access token or method signing if supported");
  }
  if (url.pathname === "/files") {
    const user = sbx.vm.user(url.searchParams.get("username") || "user");
    if (!user) return httpError(res, 401, `error looking up user '${url.searchParams.get("username")}'`);
    if (req.method === "GET") return downloadFile(sbx.vm, url, user, res);
    if (req.method === "POST") return uploadFiles(sbx.vm, url, user, req, res);
    return httpError(res, 405, `${req.method} /files is not allowed`);
  }
  const rpc = /^\/(process\.Process|filesystem\.Filesystem)\/(\w+)$/.exec(url.pathname);
  if (!rpc || req.method !== "POST") return httpError(res, 404, `${req.method} ${url.pathname} is not an envd endpoint`);
  const [, service, method] = rpc;
  const streaming = (req.headers["content-type"] ?? "").startsWith(streamContentType);
  const stream = streaming ? new ServerStream(res) : null;
  if (stream) {
    sbx.streams.add(stream);
    stream.onClose(() => sbx.streams.delete(stream));
  }
  try {
    const msg = decodeRequest(await readBody(req), req.headers["content-type"] ?? "");
    const user = userOf(sbx, req);
    if (service === "process.Process" && method === "Start" && stream) return await startProcess(sbx.vm, msg, user, sbx.envVars, req.headers, stream);
    if (service === "process.Process" && method === "Connect" && stream) return connectProcess(sbx.vm, msg, req.headers, stream);
    if (stream) throw new ConnectError("unimplemented", `${service}/${method} streams are not imitated by the fake`);
    const answer = service === "process.Process" ? processRpc(sbx.vm, method, msg) : filesystemRpc(sbx.vm, method, msg, user);
    sendUnary(res, answer);
  } catch (err) {
    const e = err instanceof ConnectError ? err : new ConnectError("internal", (err as Error).message);
    if (stream) stream.end(e);
    else sendUnaryError(res, e);
  }
}

/** The user of an RPC: HTTP Basic `username:` (what the SDK sends for `user`), else E2B's default `user`. */
function userOf(sbx: FakeSandbox, req: IncomingMessage): VmUser {
  const auth = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
  const name = auth ? Buffer.from(auth[1], "base64").toString("utf8").split(":")[0] : "user";
  const user = sbx.vm.user(name);
  if (!user) throw new ConnectError("unauthenticated", `invalid username: '${name}'`);
  return user;
}

function proxy(sbx: FakeSandbox, port: number, req: IncomingMessage, res: ServerResponse): void {
  const headers = { ...req.headers };
  delete headers["e2b-sandbox-id"];
  delete headers["e2b-sandbox-port"];
  delete headers["e2b-traffic-access-token"];
  const socket = req.socket;
  if (!sbx.sockets.has(socket)) {
    sbx.sockets.add(socket);
    socket.once("close", () => sbx.sockets.delete(socket));
  }
  const upstream = request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on("error", () => {
    // Nothing listens there: E2B's proxy answers 502 with a "port is not open" page.
    if (!res.headersSent) gone(res, sbx.id, `The sandbox is running but port ${port} is not open`);
    else res.destroy();
  });
  res.once("close", () => upstream.destroy());
  req.pipe(upstream);
}
