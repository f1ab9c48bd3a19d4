/**
 * A local session's disk limit through the API: an agent's command that writes past AIRLOCK_DISK_LIMIT_MB is
 * stopped, the turn ends with an `error` event of code `disk_limit`, and the workspace stays readable.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, turnEnded } from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ AIRLOCK_DISK_LIMIT_MB: "20", AIRLOCK_DISK_CHECK_SEC: "1" });
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

describe("local sandbox disk limit", () => {
  it("stops a turn that writes past the limit with a disk_limit error, and the next prompt is refused until space is freed", async () => {
    const res = await server.api("POST", "/v1/sessions", { agent: "scripted" });
    const id = res.body.id;
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await sse.waitFor(hasStatus("ready"));
    const write = `node -e "require('fs').writeFileSync('/workspace/big', Buffer.alloc(30 * 1024 * 1024, 1))" && echo written && sleep 30`;
    const turn = await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `run ${write}` });
    const events = await sse.waitFor(turnEnded(turn.body.turnId), 20_000, "the turn to end");
    expect(events.find((e) => e.type === "turn.ended")?.data).toMatchObject({ stopReason: "error" });
    const error = sse.events.find((e) => e.type === "error");
    expect(error?.data).toMatchObject({ code: "disk_limit", detail: expect.stringMatching(/over its limit of 20 MiB/) });
    await sse.waitFor(hasStatus("stopped"));
    // The workspace is kept and readable; the agent does not start again while it is over the limit.
    expect(JSON.stringify((await server.api("GET", `/v1/sessions/${id}/files`)).body)).toContain("big");
    const again = await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "run echo hi" });
    if (again.status < 400) await sse.waitFor((all) => all.filter((e) => e.type === "error").length > 1, 20_000, "a refusal");
    const refusal = again.status >= 400 ? again.body : sse.events.filter((e) => e.type === "error").at(-1)!.data;
    expect(JSON.stringify(refusal)).toMatch(/over its limit of 20 MiB/);
    sse.close();
    await server.api("DELETE", `/v1/sessions/${id}`);
  });
});
