/**
 * Upgrades lose nothing: a data folder written by an earlier release (fixtures/data-<commit>.tar.gz, made by
 * fixtures/make-data-folder.sh) opens in this one — its API key, its sessions and their logs and interactions —
 * and its idle-stopped session resumes with its history.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { SseReader, type TestServer, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
/** Every release whose data folder must still open. */
const releases = ["a8bc39a"];

describe.each(releases)("a data folder written by release %s", (release) => {
  let dir: string;
  let server: TestServer;
  let key: string;
  const stored = (name: string): AirlockEvent[] => JSON.parse(readFileSync(join(dir, `events-${name}.json`), "utf8")).events;
  const auth = () => ({ authorization: `Bearer ${key}` });
  const byName = async () => {
    const list = await server.api("GET", "/v1/sessions?limit=50", undefined, auth());
    expect(list.status).toBe(200);
    return Object.fromEntries(list.body.sessions.map((s: any) => [s.metadata.name, s]));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "airlock-upgrade-"));
    execFileSync("tar", ["-xzf", join(fixtures, `data-${release}.tar.gz`), "-C", dir]);
    key = readFileSync(join(dir, "key.txt"), "utf8").trim();
    server = await startServer({}, join(dir, "data"));
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(dir);
  });

  it("keeps its API key and tenant, its sessions and every event of their logs", async () => {
    expect((await server.api("GET", "/v1/sessions", undefined, { authorization: "Bearer wrong" })).status).toBe(401);
    const sessions = await byName();
    expect(Object.keys(sessions).sort()).toEqual(["deleted", "idle", "waiting"]);
    for (const name of ["waiting", "idle", "deleted"]) {
      const before = stored(name);
      const page = await server.api("GET", `/v1/sessions/${sessions[name].id}/events?limit=1000`, undefined, auth());
      expect(page.body.events.slice(0, before.length), name).toEqual(before);
    }
    expect(sessions.deleted).toMatchObject({ status: "stopped", final: true });
    expect(sessions.idle).toMatchObject({ status: "stopped", final: false });
  });

  it("a session whose relay ended while the server was away stops, with its pending interaction cancelled, and resumes", async () => {
    const { waiting } = await byName();
    const sse = new SseReader(`${server.url}/v1/sessions/${waiting.id}/events?access_token=${key}`);
    const events = await sse.waitFor((evs) => evs.some((e) => e.type === "session.status" && e.data.status === "stopped"), 30_000, "stopped");
    const requested = stored("waiting").find((e) => e.type === "interaction.requested")!;
    const resolved = events.find((e) => e.type === "interaction.resolved");
    expect(resolved?.data).toMatchObject({ interactionId: (requested.data as any).interactionId, outcome: "cancelled" });
    const view = await server.api("GET", `/v1/sessions/${waiting.id}`, undefined, auth());
    expect(view.body).toMatchObject({ status: "stopped", final: false, pendingInteractions: [] });
    const turnId = (await server.api("POST", `/v1/sessions/${waiting.id}/prompt`, { text: "echo back again" }, auth())).body.turnId;
    await sse.waitFor(turnEnded(turnId), 30_000, "a turn after the upgrade");
    sse.close();
  });

  it("resumes the idle-stopped session with its history", async () => {
    const { idle } = await byName();
    const sse = new SseReader(`${server.url}/v1/sessions/${idle.id}/events?access_token=${key}`);
    const res = await server.api("POST", `/v1/sessions/${idle.id}/prompt`, { text: "recall" }, auth());
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const events = await sse.waitFor(turnEnded(res.body.turnId), 30_000, "recall");
    expect(textOf(events, res.body.turnId)).toContain("the word is heron");
    sse.close();
  });
});
