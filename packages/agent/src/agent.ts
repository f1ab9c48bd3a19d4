/**
 * @module agent — the ACP side: initialize, sessions (new, load from saved history, set_mode), prompt and
 * cancel. What a prompt does is `turn.ts`.
 */
import { randomUUID } from "node:crypto";
import * as acp from "@agentclientprotocol/sdk";
import type { ClientCapabilities, SessionModeState } from "@agentclientprotocol/sdk";
import pkg from "../package.json" with { type: "json" };
import type { AgentConfig, PermissionMode } from "./config.ts";
import type { Engine } from "./engine.ts";
import { Session } from "./session.ts";

const availableModes: SessionModeState["availableModes"] = [
  { id: "ask", name: "Ask", description: "Ask before changing files or running commands" },
  { id: "acceptEdits", name: "Accept edits", description: "Change files without asking; ask before commands" },
  { id: "auto", name: "Auto", description: "Never ask" },
];

const commands = [{ name: "context", description: "Show the project summary the agent is given (made anew)" }];

export function createAgent(config: AgentConfig): acp.AgentApp {
  const sessions = new Map<string, Session>();
  let capabilities: ClientCapabilities = {};
  let engine: Promise<Engine> | null = null;
  const loadEngine = () => (engine ??= import("./engine.ts").then((m) => m.createEngine(config)));

  const modesOf = (session: Session): SessionModeState => ({ currentModeId: session.modeId, availableModes });
  const sessionOf = (sessionId: string): Session => {
    const session = sessions.get(sessionId);
    if (!session) throw acp.RequestError.sessionNotFound(sessionId);
    return session;
  };
  const absolute = (cwd: string) => {
    if (typeof cwd !== "string" || !cwd.startsWith("/")) throw acp.RequestError.invalidParams({ cwd }, "cwd must be an absolute path");
    return cwd;
  };
  const announceCommands = (client: acp.AgentContext, sessionId: string) =>
    // After the answer: the client knows the session only once it has its id.
    setImmediate(() => void client.notify(acp.methods.client.session.update, { sessionId, update: { sessionUpdate: "available_commands_update", availableCommands: commands } }).catch(() => {}));

  return acp
    .agent({ name: "airlock-agent" })
    .onRequest(acp.methods.agent.initialize, ({ params }) => {
      capabilities = params.clientCapabilities ?? {};
      setImmediate(loadEngine);
      return {
        protocolVersion: acp.PROTOCOL_VERSION,
        agentCapabilities: {
          loadSession: true,
          promptCapabilities: { image: true, audio: false, embeddedContext: true },
          mcpCapabilities: { http: true, sse: true },
        },
        agentInfo: { name: "airlock-agent", title: "Airlock agent", version: pkg.version },
        authMethods: [],
      };
    })
    .onRequest(acp.methods.agent.session.new, ({ params, client }) => {
      const session = Session.create(`agent_${randomUUID()}`, absolute(params.cwd), config.permissionMode, config.stateDir);
      session.mcpServers = params.mcpServers ?? [];
      sessions.set(session.id, session);
      session.save();
      announceCommands(client, session.id);
      return { sessionId: session.id, modes: modesOf(session) };
    })
    .onRequest(acp.methods.agent.session.load, async ({ params, client }) => {
      const session = sessions.get(params.sessionId) ?? Session.load(params.sessionId, absolute(params.cwd), config.permissionMode, config.stateDir);
      if (!session) throw acp.RequestError.resourceNotFound(params.sessionId);
      session.cwd = absolute(params.cwd);
      // The client gives the servers again: connect to these (a resumed session's may have changed).
      void session.mcp?.then((m) => m.close()).catch(() => {});
      session.mcp = null;
      session.mcpServers = params.mcpServers ?? [];
      sessions.set(session.id, session);
      // The conversation as the client saw it, so it can show it again; then the answer.
      for (const update of (await loadEngine()).replay(session)) await client.notify(acp.methods.client.session.update, { sessionId: session.id, update });
      announceCommands(client, session.id);
      return { modes: modesOf(session) };
    })
    .onRequest(acp.methods.agent.session.setMode, async ({ params, client }) => {
      const session = sessionOf(params.sessionId);
      if (!availableModes.some((m) => m.id === params.modeId)) {
        throw acp.RequestError.invalidParams({ modeId: params.modeId }, `unknown mode; the modes are ${availableModes.map((m) => m.id).join(", ")}`);
      }
      session.modeId = params.modeId as PermissionMode;
      session.save();
      await client.notify(acp.methods.client.session.update, { sessionId: session.id, update: { sessionUpdate: "current_mode_update", currentModeId: session.modeId } });
      return {};
    })
    .onNotification(acp.methods.agent.session.cancel, ({ params }) => {
      sessions.get(params.sessionId)?.running?.abort();
    })
    .onRequest(acp.methods.agent.session.prompt, async ({ params, client }) => {
      const session = sessionOf(params.sessionId);
      if (session.running) throw acp.RequestError.invalidRequest({ sessionId: params.sessionId }, "a prompt is already running in this session");
      const abort = new AbortController();
      session.running = abort;
      try {
        const stopReason = await (await loadEngine()).prompt(client, capabilities, session, params.prompt, abort.signal);
        return { stopReason: abort.signal.aborted ? "cancelled" : stopReason };
      } finally {
        session.running = null;
      }
    });
}
