import Anthropic from "@anthropic-ai/sdk";
import { spawn } from "node:child_process";
import http from "node:http";
import { Readable } from "node:stream";
const fake = spawn(process.execPath, ["--import", "tsx", ".diag/fake.ts"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise<string>((r) => fake.stdout!.once("data", (d) => r(String(d).trim())));
const agent = new http.Agent({ keepAlive: true });
const nodeFetch: typeof fetch = (input, init) =>
  new Promise((resolve, reject) => {
    const u = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const req = http.request(u, { method: init?.method ?? "GET", headers, agent, signal: init?.signal ?? undefined }, (res) => {
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
      resolve(new Response(Readable.toWeb(res) as ReadableStream, { status: res.statusCode, headers: h }));
    });
    req.on("error", reject);
    req.end(init?.body as string | undefined);
  });
for (const mode of ["undici", "node:http", "undici", "node:http"]) {
  const client = new Anthropic({ baseURL: url, apiKey: "x", maxRetries: 0, ...(mode === "node:http" ? { fetch: nodeFetch } : {}) });
  const lat: number[] = [];
  for (let t = 0; t < 40; t++) {
    const stream = await client.messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }], stream: true });
    for await (const e of stream) if (e.type === "content_block_delta" && e.delta.type === "text_delta") lat.push(performance.timeOrigin + performance.now() - Number(e.delta.text.slice(1)));
  }
  lat.sort((a, b) => a - b);
  console.log(mode, "n", lat.length, "p50", lat[Math.floor(lat.length / 2)].toFixed(2), "p99", lat[Math.floor(lat.length * 0.99)].toFixed(2), "max", lat.at(-1)!.toFixed(2));
}
fake.kill(); process.exit(0);
