/**
 * A fuzz of every route: malformed JSON, wrong types, huge values, odd Unicode, path tricks in ids and file
 * paths, wrong methods, made-up gateway tokens. Every request that is bad must get a 4xx (never a 5xx), change
 * nothing (the sessions, their logs, interactions and workspaces are compared before and after), and no
 * answer may name a host path. Seeded, so a failure reproduces; `npm run chaos` sends many more.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seededRandom } from "@airlock/testkit";
import { SseReader, type TestServer, hasStatus } from "../harness.ts";
import { report, rounds, serverForFile, timeoutMs } from "./chaos.ts";

const serverOf = serverForFile();

const weird = ["", " ", "\u0000", "\ud800", "\u202e", "\uFEFF", "😀".repeat(50), "ü/../ü", "..", "../..", "%2e%2e", "%00", "\\..\\", "a".repeat(5000), "null", "[]", "{}", "<script>", "' OR 1=1 --", "${jndi:x}", "\n\r", "𝔘𝔫𝔦"];
const weirdValues: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, [], [[]], {}, { a: { b: { c: {} } } }, ...weird];

/** A value as an HTTP header can carry it (printable ASCII: clients refuse anything else). */
const headerSafe = (v: unknown) => String(v).slice(0, 200).replace(/[^\x20-\x7e]/g, "?");

/** A request: method, path (with query), body as raw text or a value, and headers. */
interface Shot {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** Reading routes may answer 2xx; changing ones must refuse. */
  mayAccept: boolean;
}

function shots(next: () => number, ids: { session: string; waiting: string; interaction: string }): Shot {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  const value = () => pick(weirdValues);
  // Half percent-encoded, half as typed; a lone surrogate becomes the bytes it would be (not valid UTF-8).
  const enc = (s: string) => {
    const raw = s.replace(/[\ud800-\udfff]/g, "%ED%A0%80");
    return next() < 0.5 && raw === s ? encodeURIComponent(s) : raw.replace(/[#?\s]/g, (c) => encodeURIComponent(c));
  };
  const badId = () => enc(pick(["ses_", "ses_zz", `${ids.session}x`, `${ids.session}/..`, "..%2f..%2finstallation-id", `ses_${"0".repeat(200)}`, "SES_00000000000000deadbeef", ...weird]));
  const id = () => (next() < 0.6 ? pick([ids.session, ids.waiting]) : badId());
  const json = (v: unknown) => JSON.stringify(v);
  const malformed = () => pick(["{", "{\"agent\":", "[1,2", "nul", "{'a':1}", "\u0000\u0001", "{\"a\":1}}", `${"[".repeat(100_000)}${"]".repeat(100_000)}`, `{"text":"${"x".repeat(300 * 1024)}"}`, "\"just a string\"", "12", "true"]);
  // A session body made bad on purpose: one field of a valid one spoiled (or the JSON itself).
  const badCreate = () => {
    const spoil = pick([
      { agent: value() },
      { agent: "scripted", provider: pick(["mars", "", "e2b", value()]) },
      { agent: "scripted", workspace: { files: { [pick([".", "a/../b", "/etc/x", "a//b", "x".repeat(300), "\u0000", ""])]: "x" } } },
      { agent: "scripted", workspace: { files: { a: "x", "a/b": "y" } } },
      { agent: "scripted", workspace: { files: pick([null, 5, "a", [], [["a", "b"]], { a: 5 }, { a: null }]) } },
      { agent: "scripted", workspace: { git: pick(["file:///etc", "not a url", value()]), files: {} } },
      { agent: "scripted", env: { [pick(["1BAD", "A-B", "", "A B"])]: "x" } },
      { agent: "scripted", env: { A: pick(["x\u0000y", "\u0000", null, 5, [], {}]) } },
      { agent: "scripted", env: { A: pick([{ secret: "NO_SUCH_SECRET" }, { secret: "1BAD" }, { secret: value() }, { secret: "FUZZ_KEPT", extra: 1 }, { sealed: "v1.x.y" }]) } },
      { agent: "scripted", env: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`V${i}`, "v"])) },
      { agent: "scripted", metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) },
      { agent: "scripted", metadata: { k: value() === null ? 5 : [value()] } },
      { agent: "scripted", idleTimeoutSec: pick([0, -1, 1.5, 1e12, "60", value()]) },
      { agent: "scripted", budgetUsd: pick([0, -1, 1e9, "5"]) },
      { agent: "scripted", permissionMode: pick(["yolo", 1, value()]) },
      { agent: "scripted", [pick(["extra", "__proto__", "constructor"])]: 1 },
      { agent: "custom", command: ["node"] },
      { agent: "scripted", command: [pick(["", "a\u0000b"])] },
      { agent: "scripted", review: true },
      { agent: "scripted", webhook: pick([{ url: value() }, { url: "ftp://x/" }, { url: "http://x/", events: pick([[], ["nope"], value()]) }, { url: "http://x/", extra: 1 }, value()]) },
    ]);
    return next() < 0.15 ? malformed() : json(spoil);
  };
  const badPrompt = () =>
    next() < 0.3
      ? malformed()
      : json(pick([{}, { text: "" }, { text: value() === "" ? 5 : [1] }, { content: [] }, { content: [{ type: "video" }] }, { content: value() }, { text: "a", content: [{ type: "text", text: "b" }] }, { text: "x".repeat(300 * 1024) }, { prompt: "hi" }]));
  const badAnswer = () => (next() < 0.3 ? malformed() : json(pick([{}, { optionId: "" }, { optionId: "nope" }, { optionId: value() }, { optionId: "allow", answer: 1 }, { answer: { name: "x" } }, { other: 1 }])));

  const r = next();
  if (r < 0.2) return { method: "POST", path: "/v1/sessions", body: badCreate(), mayAccept: false };
  if (r < 0.3) return { method: "POST", path: `/v1/sessions/${id()}/prompt`, body: badPrompt(), mayAccept: false };
  if (r < 0.4) {
    const iid = next() < 0.5 ? ids.interaction : enc(pick(["int_", "int_00000000000000deadbeef", ...weird]));
    return { method: "POST", path: `/v1/sessions/${pick([ids.waiting, id()])}/interactions/${iid}`, body: badAnswer(), mayAccept: false };
  }
  if (r < 0.45) return { method: "PATCH", path: `/v1/sessions/${id()}`, body: next() < 0.3 ? malformed() : json({ budgetUsd: pick([0, -5, "5", [], {}, 1e9]) }), mayAccept: false };
  if (r < 0.5) return { method: pick(["POST", "DELETE"]), path: `/v1/sessions/${badId()}${pick(["", "/cancel", "/keepalive"])}`, mayAccept: false };
  // Cancel with nothing running, on a real session: a 409, not a change.
  if (r < 0.53) return { method: "POST", path: `/v1/sessions/${ids.session}/cancel`, mayAccept: false };
  if (r < 0.63) return { method: "GET", path: `/v1/sessions/${id()}/files?path=${enc(pick(["../installation-id", "../../", "/etc/passwd", "..%2f..%2f", "a/../../b", "x".repeat(300), "%00", ".", "", "seed.txt", "seed.txt/..", "....//....//", "\u202e", ...weird]))}`, mayAccept: true };
  if (r < 0.73) {
    const q = pick(["after", "limit", "types"]);
    return { method: "GET", path: `/v1/sessions/${id()}/events?${q}=${enc(String(value()))}`, headers: next() < 0.3 ? { "last-event-id": headerSafe(value()) } : { accept: pick(["application/json", "text/event-stream;q=0, */*", "*/*", "garbage;;q=x"]) }, mayAccept: true };
  }
  if (r < 0.8) return { method: "GET", path: `/v1/sessions?${pick(["limit", "before", "status", "metadata.k", "metadata."])}=${enc(String(value()))}`, mayAccept: true };
  if (r < 0.85) return { method: "GET", path: `/v1/sessions/${id()}${pick(["", "/diff"])}`, mayAccept: true };
  if (r < 0.9) return { method: pick(["PUT", "PATCH", "DELETE", "POST"]), path: pick(["/v1/agents", "/v1/providers", "/healthz", "/v1/nothing", `/v1/sessions/${ids.session}/files`, `/v1/sessions/${ids.session}/events`]), body: malformed(), mayAccept: false };
  if (r < 0.93) {
    const webhookId = enc(pick(["whk_", "whk_00000000000000deadbeef", "whk_zz", ...weird]));
    const badHook = () =>
      next() < 0.3
        ? malformed()
        : json(pick([{}, { url: value() }, { url: pick(["ftp://x/", "javascript:alert(1)", "http://u:p@x/", "//x", "http://[::1", "http://x:99999/"]) }, { url: "http://x/", events: pick([[], ["nope"], [value()], value()]) }, { url: "http://x/", sessionMetadata: pick([{ k: 1 }, [], value()]) }, { url: "http://x/", [pick(["extra", "__proto__", "secret", "id"])]: 1 }]));
    return pick<Shot>([
      { method: "POST", path: "/v1/webhooks", body: badHook(), mayAccept: false },
      { method: pick(["DELETE", "POST"]), path: `/v1/webhooks/${webhookId}${pick(["", "/resume"])}`, mayAccept: false },
      { method: "GET", path: `/v1/webhooks/${webhookId}${pick(["", "/deliveries", `/deliveries?limit=${enc(String(value()))}`, `/deliveries?before=${enc(String(value()))}`])}`, mayAccept: true },
    ]);
  }
  if (r < 0.95) {
    const gateway = pick(["/gateway/anthropic/v1/messages", "/gateway/openai/v1/responses", "/gateway/gemini/v1beta/models/x:streamGenerateContent"]);
    return { method: "POST", path: gateway, body: malformed(), headers: { authorization: `Bearer ${headerSafe(value())}`, "x-api-key": "made-up" }, mayAccept: false };
  }
  if (r < 0.97) {
    // Secrets: a bad name, or a bad body for a good one; deleting one that is not there.
    const name = next() < 0.5 ? "FUZZ_NEW" : enc(pick(["1BAD", "A-B", "a b", "x".repeat(200), "..", "FUZZ_KEPT/..", ...weird]));
    if (next() < 0.3) return { method: "DELETE", path: `/v1/secrets/${next() < 0.5 ? "FUZZ_MISSING" : name}`, mayAccept: false };
    const body = next() < 0.3 ? malformed() : json(pick([{}, { value: "" }, { value: value() === "" ? 5 : [value()] }, { value: "a\u0000b" }, { value: "x".repeat(64 * 1024 + 1) }, { value: "v", extra: 1 }, { secret: "v" }]));
    return { method: "PUT", path: `/v1/secrets/${name}`, body, mayAccept: false };
  }
  return { method: "GET", path: pick(["/v1/agents", "/v1/providers", "/healthz", "/v1/secrets"]), headers: { accept: headerSafe(value()) }, mayAccept: true };
}

async function send(server: TestServer, shot: Shot): Promise<{ status: number; text: string }> {
  const res = await fetch(server.url + shot.path, { method: shot.method, headers: { "content-type": "application/json", ...shot.headers }, body: shot.body });
  return { status: res.status, text: await res.text() };
}

/** Everything a bad request could change: every session's state, log, interactions and workspace files. */
async function snapshot(server: TestServer): Promise<string> {
  const list = await server.api("GET", "/v1/sessions?limit=200");
  const parts: unknown[] = [(await server.api("GET", "/v1/secrets")).body];
  for (const s of list.body.sessions) {
    // The idle deadline and the owner's lease expiry move by themselves; who owns the session must not.
    const { idleDeadline: _moving, updatedAt: _u, owner, ...view } = s;
    view.owner = owner?.node ?? null;
    const log = await server.api("GET", `/v1/sessions/${s.id}/events?limit=1000`);
    const files = await server.api("GET", `/v1/sessions/${s.id}/files?path=`);
    parts.push(view, log.body, files.body);
  }
  parts.push((await server.api("GET", "/v1/webhooks")).body);
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

describe("a fuzz of every route", () => {
  it("answers bad requests with a 4xx, never a 5xx, changes nothing, and names no host path", async () => {
    const server = serverOf();
    const count = rounds(400, 6000);
    const session: string = (await server.api("POST", "/v1/sessions", { agent: "scripted", workspace: { files: { "seed.txt": "seed" } } })).body.id;
    const waiting: string = (await server.api("POST", "/v1/sessions", { agent: "scripted" })).body.id;
    const sse = new SseReader(`${server.url}/v1/sessions/${waiting}/events`);
    await sse.waitFor(hasStatus("ready"), 30_000, "ready");
    await new SseReader(`${server.url}/v1/sessions/${session}/events`).waitFor(hasStatus("ready"), 30_000, "ready");
    await server.api("POST", `/v1/sessions/${waiting}/prompt`, { text: "permission" });
    await sse.waitFor(hasStatus("awaiting_input"), 30_000, "a pending permission");
    const interaction: string = (await server.api("GET", `/v1/sessions/${waiting}`)).body.pendingInteractions[0].id;
    sse.close();

    expect((await server.api("PUT", "/v1/secrets/FUZZ_KEPT", { value: "fuzz-kept-value" })).status).toBe(201);
    const installationId = readFileSync(join(server.dataDir, "installation-id"), "utf8").trim();
    const before = await snapshot(server);
    const next = seededRandom(41);
    const counts = { requests: 0, refused: 0, accepted: 0, serverErrors: 0, acceptedChanges: 0, hostPaths: 0 };
    const problems: string[] = [];
    for (let i = 0; i < count; i++) {
      const shot = shots(next, { session, waiting, interaction });
      const { status, text } = await send(server, shot);
      counts.requests++;
      if (status >= 500) {
        counts.serverErrors++;
        problems.push(`${status} ${shot.method} ${shot.path.slice(0, 120)} ${String(shot.body).slice(0, 120)} → ${text.slice(0, 200)}`);
      } else if (status >= 400) counts.refused++;
      else {
        counts.accepted++;
        if (!shot.mayAccept) {
          counts.acceptedChanges++;
          problems.push(`accepted ${status} ${shot.method} ${shot.path.slice(0, 120)} ${String(shot.body).slice(0, 200)}`);
        }
      }
      if (text.includes(server.dataDir) || text.includes(installationId)) {
        counts.hostPaths++;
        problems.push(`host path in ${shot.method} ${shot.path.slice(0, 120)} → ${text.slice(0, 200)}`);
      }
    }
    const after = await snapshot(server);
    report("fuzz of every route", { ...counts, stateChanged: before === after ? 0 : 1 });
    expect(problems).toEqual([]);
    expect(after).toBe(before);
  }, timeoutMs);
});
