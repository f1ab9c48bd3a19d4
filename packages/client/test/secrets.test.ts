/**
 * `airlock.secrets` against a real server: put (create, replace), list without values, delete, a session whose
 * env references a secret, and the API's 4xx as `AirlockApiError`s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, removeDir, startServer } from "../../server/test/harness.ts";
import { AirlockApiError, AirlockClient } from "../src/index.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

describe("airlock.secrets", () => {
  it("puts, lists (never a value), references from a session's env, and deletes", async () => {
    const airlock = new AirlockClient({ baseUrl: server.url });
    const made = await airlock.secrets.put("SDK_TOKEN", "sdk-secret-value-1");
    expect(made).toEqual({ name: "SDK_TOKEN", createdAt: expect.any(String), updatedAt: expect.any(String) });
    await airlock.secrets.put("SDK_TOKEN", "sdk-secret-value-2");
    const list = await airlock.secrets.list();
    expect(list.map((s) => s.name)).toEqual(["SDK_TOKEN"]);
    expect(JSON.stringify(list)).not.toContain("sdk-secret-value");

    const session = await airlock.createSession({ agent: "scripted", env: { TOKEN: { secret: "SDK_TOKEN" }, PLAIN: "plain-value" } });
    expect(session.view?.env).toEqual({ TOKEN: { secret: "SDK_TOKEN" }, PLAIN: "***" });
    await session.delete();

    await airlock.secrets.delete("SDK_TOKEN");
    expect(await airlock.secrets.list()).toEqual([]);
    const missing = await airlock.secrets.delete("SDK_TOKEN").catch((e) => e);
    expect(AirlockApiError.is(missing) && missing.status).toBe(404);
    const bad = await airlock.secrets.put("1BAD", "x").catch((e) => e);
    expect(AirlockApiError.is(bad) && bad.status).toBe(400);
    expect(bad.message).toContain("name");
    const unknown = await airlock.createSession({ agent: "scripted", env: { X: { secret: "NOPE" } } }).catch((e) => e);
    expect(AirlockApiError.is(unknown) && unknown.status).toBe(400);
    expect(unknown.message).toContain("env.X");
  });
});
