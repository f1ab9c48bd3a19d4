import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeStoreConformance, sessionRecord } from "@airlock/testkit";
import { createSqliteStore } from "./sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describeStoreConformance("sqlite (file)", async () => createSqliteStore({ path: join(dir, `t${n++}.db`) }));
describeStoreConformance("sqlite (memory)", async () => createSqliteStore({ path: ":memory:" }));

describe("sqlite store on disk", () => {
  it("keeps sessions, events and the journal offset across close and reopen", async () => {
    const path = join(dir, "restart.db");
    const a = createSqliteStore({ path });
    await a.migrate();
    const s = sessionRecord();
    await a.createSession(s, [{ type: "session.status", data: { status: "provisioning" } }]);
    await a.commit(s.id, { events: [{ type: "error", data: { message: "x" } }], journalOffset: 42 });
    await a.close();
    const b = createSqliteStore({ path });
    await b.migrate();
    expect(await b.getSession(s.id)).toMatchObject({ lastSeq: 2, journalOffset: 42 });
    expect((await b.readEvents(s.id, 0, 10)).map((e) => e.type)).toEqual(["session.status", "error"]);
    await b.close();
  });
});
