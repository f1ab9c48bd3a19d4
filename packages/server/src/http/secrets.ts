/**
 * @module secrets — `/v1/secrets`: the tenant's secrets. Values go in (`PUT`) and never come out: the list shows
 * names and dates only.
 */
import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import { PutSecret, SecretName, badRequest } from "@airlock/protocol";
import type { Secrets } from "../secrets/index.ts";
import type { AuthVars } from "./auth.ts";
import { jsonBody } from "./errors.ts";

const nameOf = (raw: string): string => {
  const parsed = SecretName.safeParse(raw);
  if (!parsed.success) throw badRequest(`invalid name: ${parsed.error.issues[0]?.message ?? "not a secret name"}`, [{ path: "name", message: parsed.error.issues[0]?.message }]);
  return parsed.data;
};

export function secretRoutes(secrets: Secrets) {
  const app = new Hono<{ Variables: AuthVars; Bindings: HttpBindings }>();

  app.get("/", async (c) => c.json({ secrets: await secrets.list(c.get("tenant")) }));

  // 201 when made, 200 when replaced; the answer never holds the value.
  app.put("/:name", async (c) => {
    const name = nameOf(c.req.param("name"));
    const body = PutSecret.parse(await jsonBody(c));
    const { secret, created } = await secrets.put(c.get("tenant"), name, body.value);
    return c.json(secret, created ? 201 : 200);
  });

  app.delete("/:name", async (c) => {
    await secrets.delete(c.get("tenant"), nameOf(c.req.param("name")));
    return c.body(null, 204);
  });

  return app;
}
