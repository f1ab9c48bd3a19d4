import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";
const fake = spawn(process.execPath, ["--import", "tsx", ".diag/fake.ts"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise<string>((r) => fake.stdout!.once("data", (d) => r(String(d).trim())));
const llm = { url, reply: (_: unknown) => {}, close: async () => fake.kill() };
const prof = process.env.PROF ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : [];
const child = spawn(process.execPath, [...prof, "packages/agent/dist/airlock-agent.mjs"], { env: { PATH: process.env.PATH, ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: "x", AIRLOCK_AGENT_PERMISSION_MODE: "auto", AIRLOCK_AGENT_MODEL: "m" }, stdio: ["pipe", "pipe", "inherit"] });
const lat: number[] = [];
const app = acp.client({ name: "t" }).onNotification(acp.methods.client.session.update, ({ params }) => {
  const u = params.update as any;
  if (u.sessionUpdate === "agent_message_chunk" && u.content.text.startsWith("⏱")) lat.push(performance.timeOrigin + performance.now() - Number(u.content.text.slice(1)));
});
await app.connectWith(acp.ndJsonStream(Writable.toWeb(child.stdin!) as any, Readable.toWeb(child.stdout!) as any), async (ctx) => {
  await ctx.request(acp.methods.agent.initialize, { protocolVersion: 1, clientCapabilities: {} });
  const { sessionId } = await ctx.request(acp.methods.agent.session.new, { cwd: "/tmp/empty-ws", mcpServers: [] });
  for (let t = 0; t < 40; t++) {
    llm.reply({ text: "x".repeat(25), pieces: 25, delayMs: 4, timestamps: true });
    await ctx.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: "text", text: "hi" }] });
  }
});
lat.sort((a, b) => a - b);
console.log("agent direct n", lat.length, "p50", lat[Math.floor(lat.length / 2)].toFixed(2), "p99", lat[Math.floor(lat.length * 0.99)].toFixed(2), "max", lat.at(-1)!.toFixed(2));
child.stdin!.end(); await new Promise((r) => child.once("exit", r)); await llm.close(); process.exit(0);
