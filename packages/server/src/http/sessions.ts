/**
 * @module sessions — the `/v1/sessions` routes of DESIGN.md's HTTP API table.
 */
import { Hono } from "hono";
import { AnswerInteraction, CreateSession, ListSessionsQuery, Prompt, UpdateSession, badRequest, eventTypes, isId, limits, notFound, setupLimits } from "@airlock/protocol";
import { requestKey } from "../sessions/idempotency.ts";
import type { SessionManager } from "../sessions/manager.ts";
import type { EventBus } from "../sessions/bus.ts";
import type { AuthVars } from "./auth.ts";
import { jsonBody } from "./errors.ts";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { wantsEventStream } from "./accept.ts";
import { type TypeFilter, jsonPage, writeSse } from "./events.ts";

/** `?types=a,b`: event types to keep; an unknown one is refused (a typo would otherwise silence the stream). */
const typesParam = (value: string | undefined): TypeFilter => {
  if (value === undefined || value.trim() === "") return null;
  const names = value.split(",").map((t) => t.trim()).filter(Boolean);
  const unknown = names.filter((t) => !(eventTypes as readonly string[]).includes(t));
  if (unknown.length) throw badRequest(`types: unknown event type ${unknown.map((t) => JSON.stringify(t.slice(0, 40))).join(", ")}; known: ${eventTypes.join(", ")}`);
  return new Set(names);
};

const seqParam = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value === "") return undefined;
  if (!/^\d{1,15}$/.test(value)) throw badRequest(`${name} must be a non-negative integer event seq`);
  return Number(value);
};

const flagParam = (value: string | undefined, name: string): boolean => {
  if (value === undefined || value === "" || value === "false" || value === "0") return false;
  if (value === "true" || value === "1") return true;
  throw badRequest(`${name} must be true or false`);
};

export function sessionRoutes(manager: SessionManager, bus: EventBus) {
  const app = new Hono<{ Variables: AuthVars; Bindings: HttpBindings }>();

  // Ids are checked for shape before any lookup: a malformed one is simply not found.
  app.use("/:id/*", async (c, next) => {
    if (!isId("session", c.req.param("id"))) throw notFound(`no session ${c.req.param("id")}`);
    await next();
  });

  app.post("/", async (c) => {
    const body = CreateSession.parse(await jsonBody(c));
    return c.json(await manager.create(c.get("tenant"), body), 201);
  });

  app.get("/", async (c) => {
    const q = ListSessionsQuery.parse(c.req.query());
    const metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries(c.req.query())) {
      const m = key.match(/^metadata\.(.+)$/);
      if (m) metadata[m[1]] = value;
    }
    return c.json(await manager.list(c.get("tenant"), { ...q, ...(Object.keys(metadata).length ? { metadata } : {}) }));
  });

  app.get("/:id", async (c) => {
    if (!isId("session", c.req.param("id"))) throw notFound(`no session ${c.req.param("id")}`);
    return c.json(await manager.view(await manager.get(c.get("tenant"), c.req.param("id"))));
  });

  app.post("/:id/prompt", async (c) => {
    const body = Prompt.parse(await jsonBody(c));
    const key = requestKey(c.req.header("idempotency-key"), body.requestId);
    return c.json(await manager.prompt(c.get("tenant"), c.req.param("id"), body, key), 202);
  });

  app.post("/:id/cancel", async (c) => c.json(await manager.cancel(c.get("tenant"), c.req.param("id")), 202));

  app.post("/:id/interactions/:iid", async (c) => {
    const body = AnswerInteraction.parse(await jsonBody(c));
    const iid = c.req.param("iid");
    if (!isId("interaction", iid)) throw notFound(`no interaction ${iid}`);
    const key = requestKey(c.req.header("idempotency-key"), body.requestId);
    return c.json(await manager.answer(c.get("tenant"), c.req.param("id"), iid, body, c.get("principal"), key));
  });

  app.patch("/:id", async (c) => {
    if (!isId("session", c.req.param("id"))) throw notFound(`no session ${c.req.param("id")}`);
    const body = UpdateSession.parse(await jsonBody(c));
    return c.json(await manager.updateBudget(c.get("tenant"), c.req.param("id"), body.budgetUsd));
  });

  app.post("/:id/keepalive", async (c) => c.json(await manager.keepalive(c.get("tenant"), c.req.param("id"))));

  // `?purge=true` also removes the session's log and records: it is missing from then on (its rows go in the
  // background). A live session is stopped first, as without `purge`.
  app.delete("/:id", async (c) => {
    if (!isId("session", c.req.param("id"))) throw notFound(`no session ${c.req.param("id")}`);
    const purge = flagParam(c.req.query("purge"), "purge");
    const tenant = c.get("tenant");
    const id = c.req.param("id");
    await manager.get(tenant, id);
    if (purge) {
      await manager.purge(tenant, id);
      return c.json({ id, status: "stopped", purged: true }, 202);
    }
    await manager.delete(tenant, id);
    return c.json({ id, status: "stopped" }, 202);
  });

  app.get("/:id/events", async (c) => {
    const session = await manager.get(c.get("tenant"), c.req.param("id"));
    const after = seqParam(c.req.query("after"), "after") ?? seqParam(c.req.header("last-event-id"), "Last-Event-ID") ?? 0;
    const types = typesParam(c.req.query("types"));
    if (wantsEventStream(c)) {
      // Events other nodes store are passed on from the head read just now, which the backlog covers.
      bus.prime(session.id, session.lastSeq);
      writeSse(c.env.outgoing, session.id, after, manager, bus, types);
      return RESPONSE_ALREADY_SENT;
    }
    const limit = Math.min(seqParam(c.req.query("limit"), "limit") ?? 100, limits.maxEventsPerPage) || 1;
    return c.body(await jsonPage(session.id, after, limit, manager, types), 200, { "content-type": "application/json" });
  });

  app.get("/:id/files", async (c) => {
    const path = c.req.query("path") ?? "";
    if (path.split(/[\\/]/).includes("..") || path.includes("\0")) throw badRequest("path must stay inside the workspace (no '..')");
    const handle = await manager.sandbox(c.get("tenant"), c.req.param("id"));
    return c.json(await handle.readWorkspace(path.replace(/^\/+/, "")));
  });

  app.get("/:id/services", async (c) => c.json(await manager.services(c.get("tenant"), c.req.param("id"))));

  app.get("/:id/services/:name/log", async (c) => {
    const text = c.req.query("tail") ?? "";
    const tail = text === "" ? 200 : /^\d{1,6}$/.test(text) ? Number(text) : 0;
    if (tail < 1 || tail > setupLimits.maxLogTailLines) throw badRequest(`tail must be a number of lines from 1 to ${setupLimits.maxLogTailLines}`);
    return c.json(await manager.serviceLog(c.get("tenant"), c.req.param("id"), c.req.param("name"), tail));
  });

  app.get("/:id/diff", async (c) => {
    const handle = await manager.sandbox(c.get("tenant"), c.req.param("id"));
    return c.json(await handle.diff());
  });

  return app;
}
