/**
 * The E2B provider's pure parts: launch translation, error translation, the agent's wrap, the template
 * definition and its CLI command.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuthenticationError, CommandExitError, RateLimitError, SandboxError, SandboxNotFoundError, Template, TimeoutError } from "e2b";
import { describe, expect, it } from "vitest";
import { sandboxdPath } from "@airlock/sandboxd";
import { e2bError, isGone, isTemplateMissing } from "./errors.ts";
import { sandboxdEndpoint } from "./handle.ts";
import { translateLaunch } from "./launch.ts";
import { agentWrap } from "./layout.ts";
import { agentPackages, airlockTemplate, pinnedVersions } from "./template.ts";

describe("launch translation", () => {
  it("points node_modules paths at the template's copy, names the packages with their pins, uploads the rest", () => {
    const host = mkdtempSync(join(tmpdir(), "e2b-launch-"));
    try {
      const nm = join(host, "node_modules");
      const tool = join(host, "tool");
      mkdirSync(join(tool, "lib"), { recursive: true });
      mkdirSync(join(tool, "node_modules/dep"), { recursive: true });
      writeFileSync(join(tool, "agent.mjs"), "console.log(1)");
      writeFileSync(join(tool, "lib/x.js"), "x");
      writeFileSync(join(tool, "node_modules/dep/ignored.js"), "no");
      const plan = translateLaunch(
        {
          argv: ["node", `${nm}/@scope/agent/dist/index.js`, "--flag"],
          env: { A: "1", TOOL: `${nm}/plain-tool/bin/run` },
          readOnlyPaths: [nm, tool],
        },
        nm,
        { "@scope/agent": "1.2.3" },
      );
      expect(plan.argv).toEqual(["node", "/opt/airlock/node_modules/@scope/agent/dist/index.js", "--flag"]);
      expect(plan.env).toEqual({ A: "1", TOOL: "/opt/airlock/node_modules/plain-tool/bin/run" });
      expect(plan.packages).toEqual(["@scope/agent@1.2.3", "plain-tool"]);
      expect(plan.uploads.map((u) => [u.path, u.data.toString()]).sort()).toEqual([
        [join(tool, "agent.mjs"), "console.log(1)"],
        [join(tool, "lib/x.js"), "x"],
      ]);
      expect(() => translateLaunch({ argv: ["x"], env: {}, binds: [{ host: "/a", sandbox: "/b" }] }, nm, {})).toThrow(/cannot bind/);
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });
});

describe("E2B errors", () => {
  const kind = (err: unknown, context?: { template?: string; sandboxId?: string }) => {
    const e = e2bError(err, "doing it", context);
    return [e.code, (e.details as { e2b: string }).e2b, e.message];
  };
  it("say what went wrong and what to do, with a kind to tell them apart", () => {
    expect(kind(new AuthenticationError("Unauthorized, please check your credentials."))).toEqual(["unavailable", "auth", expect.stringMatching(/E2B rejected the API key.*E2B_API_KEY/)]);
    expect(kind(new RateLimitError("Rate limit exceeded, please try again later - you have reached the maximum number of concurrent E2B sandboxes (20)"))).toEqual([
      "too_many_requests",
      "quota",
      expect.stringMatching(/quota reached/),
    ]);
    expect(kind(new RateLimitError("Rate limit exceeded"))).toEqual(["too_many_requests", "rate_limit", expect.stringMatching(/rate limiting/)]);
    expect(kind(new SandboxNotFoundError("Paused sandbox x not found"), { sandboxId: "x" })).toEqual(["unavailable", "sandbox_gone", expect.stringMatching(/E2B sandbox x is gone/)]);
    expect(kind(new TimeoutError("deadline"))).toEqual(["unavailable", "timeout", expect.stringMatching(/timed out/)]);
    const missing = Object.assign(new SandboxError("404: template 'airlock' not found"), { statusCode: 404 });
    expect(isTemplateMissing(missing)).toBe(true);
    expect(kind(missing, { template: "airlock" })).toEqual(["unavailable", "template_missing", expect.stringMatching(/airlock e2b template build/)]);
    const exit = new CommandExitError({ exitCode: 10, error: "exit status 10", stdout: "", stderr: "Node.js is not installed\n" });
    expect(kind(exit)).toEqual(["unavailable", "command", "doing it failed in the sandbox (exit 10): Node.js is not installed"]);
    expect(isGone(new SandboxNotFoundError("x"))).toBe(true);
    expect(isGone(new AuthenticationError("x"))).toBe(false);
  });
});

describe("the way to sandboxd", () => {
  it("is https://getHost(port) on E2B's cloud, or sandboxUrl with E2B's routing headers; private ingress adds the traffic token", () => {
    const sbx = { sandboxId: "abc123", trafficAccessToken: "tat", getHost: (port: number) => `${port}-abc123.e2b.app` };
    expect(sandboxdEndpoint(sbx, 41000, "tok")).toEqual({ token: "tok", url: "https://41000-abc123.e2b.app", headers: { "e2b-traffic-access-token": "tat" } });
    expect(sandboxdEndpoint({ ...sbx, trafficAccessToken: undefined }, 41000, "tok", "http://127.0.0.1:9")).toEqual({
      token: "tok",
      url: "http://127.0.0.1:9",
      headers: { "E2b-Sandbox-Id": "abc123", "E2b-Sandbox-Port": "41000" },
    });
  });
});

describe("the agent's wrap", () => {
  it("drops to the agent user for good, under limits when asked", () => {
    expect(agentWrap()).toEqual(["setpriv", "--reuid=agent", "--regid=agent", "--init-groups", "--no-new-privs", "--"]);
    expect(agentWrap({ cpuSeconds: 60, fileSizeMb: 2, pids: 100 }).slice(0, 5)).toEqual(["prlimit", "--cpu=60", "--fsize=2097152", "--nproc=100", "--"]);
  });
});

describe("the Airlock template", () => {
  it("installs Node 20, git, ripgrep, the pinned agent packages, sandboxd and the agent user", () => {
    const pins = pinnedVersions();
    const server = JSON.parse(readFileSync(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8"));
    for (const name of agentPackages) expect(pins[name]).toBe(server.dependencies[name]);
    const dockerfile = Template.toDockerfile(airlockTemplate({ sandboxdPath }));
    expect(dockerfile).toMatch(/^FROM node:20\n/);
    expect(dockerfile).toMatch(/apt-get install -y .*git ripgrep/);
    expect(dockerfile).toMatch(/useradd .* agent/);
    expect(dockerfile).toContain("COPY sandboxd.js /opt/airlock/sandboxd.js");
    for (const [name, version] of Object.entries(pins)) expect(dockerfile).toContain(`'${name}@${version}'`);
  });

  it("`airlock e2b template build` prints it with --dry-run and needs E2B_API_KEY to build", () => {
    const cli = fileURLToPath(new URL("../../cli.ts", import.meta.url));
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 });
    const dry = run(["e2b", "template", "build", "--dry-run"]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/^FROM node:20/);
    const noKey = run(["e2b", "template", "build"]);
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toMatch(/E2B_API_KEY is not set/);
    expect(run(["e2b", "template"]).status).toBe(2);
  });
});
