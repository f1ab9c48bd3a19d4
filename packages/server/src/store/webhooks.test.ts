import { afterAll, beforeAll } from "vitest";
import { type TestDatabase, createTestDatabase, describeWebhookConformance } from "@airlock/testkit";
import { createPostgresStore } from "./postgres/store.ts";
import { createSqliteStore } from "./sqlite.ts";

describeWebhookConformance("sqlite (memory)", async () => createSqliteStore({ path: ":memory:" }));

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("webhooks");
});
afterAll(() => db?.drop());
describeWebhookConformance("postgres", async () => {
  await db.reset();
  return createPostgresStore({ url: db.url });
});
