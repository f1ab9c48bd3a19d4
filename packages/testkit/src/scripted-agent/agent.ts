/**
 * @module agent — the scripted agent's ACP handlers: initialize, sessions (new, load, set_mode), prompt and
 * cancel. What a prompt does is up to `behaviours.ts`.
 */
import { randomUUID } from "node:crypto";
import * as acp from "@agentclientprotocol/sdk";
import type { ClientCapabilities, ContentBlock, McpServer, SessionModeState, SessionUpdate, StopReason } from "@agentclientprotocol/sdk";
import pkg from "../../package.json" with { type: "json" };
import { behaviours, intro } from "./behaviours.ts";
import { type BurstSink, burst } from "./burst.ts";
import * as History from "./history.ts";
import { pick } from "./keywords.ts";
import type { Turn } from "./turn.ts";

interface Session {
  cwd: string;
  mcpServers: McpServer[];
  modeId: string;
  /** The running prompt's abort, or null between turns. */
  running: AbortController | null;
}

const availableModes = [
  { id: "ask", name: "Ask", description: "Ask before changing files or running commands" },
  { id: "acceptEdits", name: "Accept edits", description: "Change files without asking; ask before commands" },
  { id: "auto", name: "Auto", description: "Never ask" },
];

/** After a cancel, how long a behaviour may take to wind down before the prompt is answered anyway. */
const cancelGraceMs = 1000;

export function createScriptedAgent(out: BurstSink): acp.AgentApp {
  const sessions = new Map<string, Session>();
  let capabilities: ClientCapabilities = {};
  const modesOf = (session: Session): SessionModeState => ({ currentModeId: session.modeId, availableModes });
  const sessionOf = (sessionId: string): Session => {
    const session = sessions.get(sessionId);
    if (!session) throw acp.RequestError.sessionNotFound(sessionId);
    return session;
  };

  return acp
    .agent({ name: "airlock-scripted" })
    .onRequest(acp.methods.agent.initialize, ({ params }) => {
      capabilities = params.clientCapabilities ?? {};
      return {
        protocolVersion: acp.PROTOCOL_VERSION,
        agentCapabilities: {
          // SCRIPTED_NO_LOAD=1 plays an agent that cannot reload a session (the control plane starts a new one).
          loadSession: process.env.SCRIPTED_NO_LOAD !== "1",
          promptCapabilities: { image: false, audio: false, embeddedContext: false },
          mcpCapabilities: { http: true, sse: true },
        },
        agentInfo: { name: "airlock-scripted", title: "Scripted demo agent", version: pkg.version },
        authMethods: [],
      };
    })
    .onRequest(acp.methods.agent.session.new, ({ params }) => {
      const sessionId = `scripted_${randomUUID()}`;
      const session: Session = { cwd: params.cwd, mcpServers: params.mcpServers ?? [], modeId: "ask", running: null };
      sessions.set(sessionId, session);
      return { sessionId, modes: modesOf(session) };
    })
    .onRequest(acp.methods.agent.session.load, async ({ params, client }) => {
      const session: Session = sessions.get(params.sessionId) ?? { cwd: params.cwd, mcpServers: [], modeId: "ask", running: null };
      session.cwd = params.cwd;
      session.mcpServers = params.mcpServers ?? [];
      sessions.set(params.sessionId, session);
      // Replay the conversation so the client can rebuild it, then answer.
      const replay = (update: SessionUpdate) => client.notify(acp.methods.client.session.update, { sessionId: params.sessionId, update });
      for (const { prompt, reply } of History.load(params.sessionId)) {
        await replay({ sessionUpdate: "user_message_chunk", content: { type: "text", text: prompt } });
        if (reply) await replay({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: reply } });
      }
      return {};
    })
    .onRequest(acp.methods.agent.session.setMode, ({ params }) => {
      const session = sessionOf(params.sessionId);
      if (!availableModes.some((m) => m.id === params.modeId)) {
        throw acp.RequestError.invalidParams({ modeId: params.modeId }, `unknown mode; the modes are ${availableModes.map((m) => m.id).join(", ")}`);
      }
      session.modeId = params.modeId;
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
      const text = textOf(params.prompt);
      const { keyword, rest, args } = pick(text);
      const said: string[] = [];
      const update = (u: SessionUpdate) => client.notify(acp.methods.client.session.update, { sessionId: params.sessionId, update: u });
      const turn: Turn = {
        sessionId: params.sessionId,
        cwd: session.cwd,
        mcpServers: session.mcpServers,
        text,
        rest,
        args,
        history: [...History.load(params.sessionId)],
        client,
        capabilities,
        signal: abort.signal,
        update,
        say: (chunk) => {
          said.push(chunk);
          return update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: chunk } });
        },
      };
      try {
        const behaviour = keyword === "burst" ? burst(turn, out) : keyword ? behaviours[keyword](turn) : intro(turn);
        const stopReason = await untilCancelled(behaviour, abort.signal);
        return { stopReason: abort.signal.aborted ? "cancelled" : stopReason };
      } finally {
        session.running = null;
        History.append(params.sessionId, { prompt: text, reply: keyword === "burst" ? "" : said.join("") });
      }
    });
}

/**
 * The behaviour's stop reason; or `cancelled` if, after a cancel, it has not finished within the grace period
 * (a client that never answers a request must not keep the prompt open).
 */
function untilCancelled(behaviour: Promise<StopReason>, signal: AbortSignal): Promise<StopReason> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => resolve("cancelled"), cancelGraceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    behaviour.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    });
  });
}

function textOf(prompt: ContentBlock[]): string {
  return prompt
    .map((block) => (block.type === "text" ? block.text : block.type === "resource_link" ? block.uri : ""))
    .filter(Boolean)
    .join("\n");
}
