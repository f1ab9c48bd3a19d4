/**
 * The local sandbox's one route to the gateway: a per-session unix socket that survives a restart of the
 * control plane (the running sandbox has its folder bound), and the forwarder that puts it on a loopback port.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Gateway, GatewayTokens, forwarderPath, sandboxSocketDir } from "./index.ts";

const dataDir = mkdtempSync(join(tmpdir(), "airlock-gw-route-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const getOver = (socketPath: string, path: string) =>
  new Promise<string>((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET" }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end();
  });

function newGateway() {
  const gateway = new Gateway({ dataDir, publicUrl: null, tokens: new GatewayTokens(Buffer.alloc(32, 1)) });
  gateway.setFetch((req) => new Response(`served ${new URL(req.url).pathname}`));
  return gateway;
}

describe("the per-session gateway socket", () => {
  it("is bound into the sandbox, outlives a control plane shutdown and is served again after the restart", async () => {
    const session = "ses_00000000000001aaaaaaaa";
    const first = newGateway();
    const launch = await first.wrapLocal(session, { argv: ["agent", "--flag"], env: {} });
    const bind = launch.binds!.find((b) => b.sandbox === sandboxSocketDir)!;
    expect(launch.argv).toEqual(["node", forwarderPath, "4599", `${sandboxSocketDir}/gw.sock`, "--", "agent", "--flag"]);
    const socket = join(bind.host, "gw.sock");
    expect(await getOver(socket, "/gateway/anthropic/v1/messages")).toBe("served /gateway/anthropic/v1/messages");

    first.closeAll();
    await expect(getOver(socket, "/gateway/anthropic/x")).rejects.toThrow();
    expect(existsSync(bind.host)).toBe(true);

    const second = newGateway();
    await second.reattach(session);
    expect(await getOver(socket, "/gateway/anthropic/again")).toBe("served /gateway/anthropic/again");

    second.close(session);
    expect(existsSync(bind.host)).toBe(false);
    await second.reattach(session);
    expect(existsSync(bind.host)).toBe(false);
  });

  it("for an agent that speaks to the socket itself, binds it and names it, with no forwarder", async () => {
    const gateway = newGateway();
    const session = "ses_00000000000004dddddddd";
    const launch = await gateway.wrapLocal(session, { argv: ["node", "agent.mjs"], env: { A: "1" } }, true);
    expect(launch.argv).toEqual(["node", "agent.mjs"]);
    expect(launch.env).toEqual({ A: "1", AIRLOCK_GATEWAY_SOCKET: `${sandboxSocketDir}/gw.sock` });
    const bind = launch.binds!.find((b) => b.sandbox === sandboxSocketDir)!;
    expect(await getOver(join(bind.host, "gw.sock"), "/gateway/anthropic/v1/messages")).toBe("served /gateway/anthropic/v1/messages");
    gateway.close(session);
  });

  it("serves only the gateway's paths, and only to the session's own token", async () => {
    const gateway = newGateway();
    const tokens = new GatewayTokens(Buffer.alloc(32, 1));
    const session = "ses_00000000000003cccccccc";
    const launch = await gateway.wrapLocal(session, { argv: [], env: {} });
    const socket = join(launch.binds![0].host, "gw.sock");
    const call = (path: string, token?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ socketPath: socket, path, method: "POST", headers: token ? { "x-api-key": token } : {} }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end();
      });
    expect(await call("/gateway/anthropic/v1/messages", tokens.issue(session))).toEqual({ status: 200, body: "served /gateway/anthropic/v1/messages" });
    expect((await call("/gateway/openai/v1/responses", tokens.issue(session))).body).toBe("served /gateway/openai/v1/responses");
    expect((await call("/gateway/gemini/v1beta/models/g:generateContent", tokens.issue(session))).body).toBe("served /gateway/gemini/v1beta/models/g:generateContent");
    for (const path of ["/v1/sessions", "/healthz", "/", "/gateway/anthropicx", "/gateway"]) expect((await call(path, tokens.issue(session))).status).toBe(404);
    const other = await call("/gateway/anthropic/v1/messages", tokens.issue("ses_00000000000004dddddddd"));
    expect(other.status).toBe(401);
    expect(other.body).toContain("another session");
    gateway.close(session);
  });

  it("refuses a non-local provider without AIRLOCK_PUBLIC_URL, unless the operator passes the real key", () => {
    const tokens = new GatewayTokens(Buffer.alloc(32, 1));
    expect(() => new Gateway({ dataDir, publicUrl: null, tokens }).access("ses_00000000000001aaaaaaaa", "e2b")).toThrow(/AIRLOCK_PUBLIC_URL/);
    const publicUrl = new Gateway({ dataDir, publicUrl: "https://airlock.example/", tokens }).access("ses_00000000000001aaaaaaaa", "e2b");
    const token = tokens.issue("ses_00000000000001aaaaaaaa");
    expect(publicUrl).toEqual({
      baseUrl: "https://airlock.example/gateway/anthropic",
      token,
      openai: { baseUrl: "https://airlock.example/gateway/openai/v1", token },
      gemini: { baseUrl: "https://airlock.example/gateway/gemini", token },
    });
    const direct = new Gateway({
      dataDir,
      publicUrl: null,
      tokens,
      passRealKey: true,
      upstream: { baseUrl: "https://api.anthropic.com", apiKey: "sk-real" },
      openaiUpstream: { baseUrl: "https://api.openai.com/v1", apiKey: "sk-openai" },
    }).access("ses_00000000000001aaaaaaaa", "e2b");
    expect(direct).toEqual({
      baseUrl: "https://api.anthropic.com",
      token: "sk-real",
      openai: { baseUrl: "https://api.openai.com/v1", token: "sk-openai" },
      gemini: { baseUrl: "", token: "" },
      direct: true,
    });
  });
});

describe("the forwarder", () => {
  it("relays its loopback port to the socket, runs the agent with its stdio and exits with its code", async () => {
    const gateway = newGateway();
    const launch = await gateway.wrapLocal("ses_00000000000002bbbbbbbb", { argv: [], env: {} });
    const socket = join(launch.binds![0].host, "gw.sock");
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const agent = `fetch("http://127.0.0.1:${port}/gateway/anthropic/v1/messages").then(r => r.text()).then(t => { console.log(t); process.exit(3); })`;
    const proc = spawn(process.execPath, [forwarderPath, String(port), socket, "--", process.execPath, "-e", agent], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (c) => (out += c));
    const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
    expect(out.trim()).toBe("served /gateway/anthropic/v1/messages");
    expect(code).toBe(3);
    gateway.close("ses_00000000000002bbbbbbbb");
  });
});
