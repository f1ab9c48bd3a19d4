/**
 * @module scripted-agent — a real ACP agent over stdio whose behaviour is picked by words in the prompt.
 * Airlock's tests and benchmarks drive it; users meet it as the `scripted` demo agent that needs no LLM.
 */
import { Readable, Writable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";
import type { ClientCapabilities, ContentBlock, SessionUpdate } from "@agentclientprotocol/sdk";
import { type Turn, behaviours, intro } from "./behaviours.ts";
import { burst } from "./burst.ts";
import * as History from "./history.ts";

interface SessionState {
  cwd: string;
  running: AbortController | null;
}

const sessions = new Map<string, SessionState>();
let capabilities: ClientCapabilities = {};
let nextSession = 1;

const modes = {
  currentModeId: "ask",
  availableModes: [
    { id: "ask", name: "Ask", description: "Ask before writing or running anything" },
    { id: "acceptEdits", name: "Accept edits", description: "Write files without asking" },
    { id: "auto", name: "Auto", description: "Never ask" },
  ],
};

const app = acp
  .agent({ name: "airlock-scripted" } as any)
  .onRequest(acp.methods.agent.initialize, ({ params }) => {
    capabilities = params.clientCapabilities ?? {};
    return {
      protocolVersion: acp.PROTOCOL_VERSION,
      agentCapabilities: { loadSession: true, promptCapabilities: { image: false, audio: false, embeddedContext: true } },
      agentInfo: { name: "airlock-scripted", title: "Scripted demo agent", version: "0.1.0" },
      authMethods: [],
    };
  })
  .onRequest(acp.methods.agent.session.new, ({ params }) => {
    const sessionId = `scripted-${process.pid}-${nextSession++}-${Date.now().toString(36)}`;
    sessions.set(sessionId, { cwd: params.cwd, running: null });
    return { sessionId, modes };
  })
  .onRequest(acp.methods.agent.session.load, async ({ params, client }) => {
    sessions.set(params.sessionId, { cwd: params.cwd, running: null });
    for (const exchange of History.load(params.sessionId)) {
      await client.notify(acp.methods.client.session.update, { sessionId: params.sessionId, update: { sessionUpdate: "user_message_chunk", content: { type: "text", text: exchange.prompt } } });
      await client.notify(acp.methods.client.session.update, { sessionId: params.sessionId, update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: exchange.reply } } });
    }
    return { modes };
  })
  .onRequest(acp.methods.agent.session.setMode, () => ({}))
  .onNotification(acp.methods.agent.session.cancel, ({ params }) => {
    sessions.get(params.sessionId)?.running?.abort();
  })
  .onRequest(acp.methods.agent.session.prompt, async ({ params, client }) => {
    const session = sessions.get(params.sessionId);
    if (!session) throw acp.RequestError.invalidParams({ sessionId: params.sessionId }, "unknown session");
    const abort = new AbortController();
    session.running = abort;
    const text = promptText(params.prompt);
    const words = text.trim().split(/\s+/);
    const index = words.findIndex((w) => w.toLowerCase() in behaviours || w.toLowerCase() === "burst");
    const keyword = index >= 0 ? words[index].toLowerCase() : null;
    const args = index >= 0 ? words.slice(index + 1) : [];
    const reply: string[] = [];
    const update = (u: SessionUpdate) => client.notify(acp.methods.client.session.update, { sessionId: params.sessionId, update: u });
    const turn: Turn = {
      sessionId: params.sessionId,
      cwd: session.cwd,
      text,
      args,
      rest: index >= 0 ? text.trim().split(/\s+/).slice(index + 1).join(" ") : "",
      history: History.load(params.sessionId),
      client,
      capabilities,
      signal: abort.signal,
      update,
      say: (t) => {
        reply.push(t);
        return update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: t } });
      },
      reply,
    };
    try {
      let stopReason;
      if (keyword === "burst") stopReason = await burst(params.sessionId, args, abort.signal);
      else if (keyword) stopReason = await behaviours[keyword](turn);
      else {
        for (const piece of intro.match(/.{1,60}(\s|$)/g) ?? [intro]) await turn.say(piece);
        stopReason = "end_turn" as const;
      }
      return { stopReason: abort.signal.aborted ? "cancelled" : stopReason };
    } finally {
      session.running = null;
      History.append(params.sessionId, { prompt: text, reply: reply.join("") });
    }
  });

function promptText(prompt: ContentBlock[]): string {
  return prompt.map((b) => (b.type === "text" ? b.text : "")).join("\n");
}

const stream = acp.ndJsonStream(Writable.toWeb(process.stdout) as WritableStream<Uint8Array>, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>);
const connection = app.connect(stream);
void (connection as any).closed?.then?.(() => process.exit(0));
process.stdin.on("end", () => process.exit(0));
