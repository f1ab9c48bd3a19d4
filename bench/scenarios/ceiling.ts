/**
 * The ceiling: the scripted agent's burst read straight from its stdout by a bare Node reader — no journal,
 * no store, no HTTP. Every other figure is compared to it.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "../lib/context.ts";
import { round } from "../lib/stats.ts";

const agent = fileURLToPath(new URL("../../packages/testkit/dist/scripted-agent.mjs", import.meta.url));

export async function ceiling(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 2000 : 200_000;
  const proc = spawn(process.execPath, [agent], { stdio: ["pipe", "pipe", "inherit"] });
  const waiters = new Map<number, (m: any) => void>();
  let chunks = 0;
  let carry = "";
  proc.stdout.setEncoding("utf8");
  proc.stdout.on("data", (text: string) => {
    const lines = (carry + text).split("\n");
    carry = lines.pop()!;
    for (const line of lines) {
      const msg = JSON.parse(line);
      if (msg.method === "session/update") chunks++;
      else if (msg.id !== undefined) waiters.get(msg.id)?.(msg);
    }
  });
  const rpc = (id: number, method: string, params: unknown) =>
    new Promise<any>((resolve) => {
      waiters.set(id, resolve);
      proc.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    });
  await rpc(1, "initialize", { protocolVersion: 1, clientCapabilities: {} });
  const session = await rpc(2, "session/new", { cwd: "/tmp", mcpServers: [] });
  const t0 = performance.now();
  await rpc(3, "session/prompt", { sessionId: session.result.sessionId, prompt: [{ type: "text", text: `burst ${n}` }] });
  const rate = chunks / ((performance.now() - t0) / 1000);
  proc.kill();
  ctx.results.set("ceiling/events_per_s", rate);
  ctx.record({ scenario: "ceiling", metric: `bare stdout reader, burst of ${n}`, value: round(rate, 0), unit: "events/s", note: chunks === n ? "" : `received ${chunks}` });
}
