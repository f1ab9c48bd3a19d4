/**
 * @module turn — one `session/prompt`, from the user's words to a stop reason.
 *
 * The tool loop: ask the model (system prompt + project context + conversation, with prompt-cache marks),
 * forward every delta as it arrives, start each tool the moment its call is complete (several run at once),
 * send the results back, and repeat until the model stops calling tools — or the prompt's request or token
 * limit is reached, or the user cancels. With review on, a turn that changed files is then reviewed and
 * fixed (see review.ts); the review and the fixes stream as ordinary, labelled updates.
 */
import * as acp from "@agentclientprotocol/sdk";
import type { AgentContext, ClientCapabilities, ContentBlock, SessionUpdate, StopReason } from "@agentclientprotocol/sdk";
import type { ContentBlockParam, MessageCreateParamsStreaming, TextBlockParam, ToolResultBlockParam } from "@anthropic-ai/sdk/resources/messages";
import type { AgentConfig } from "./config.ts";
import { projectContext } from "./context.ts";
import { type Llm, LlmAborted, type StreamHandlers, type Usage } from "./llm.ts";
import { systemPrompt } from "./prompt.ts";
import { Changes, fixRequest, review } from "./review.ts";
import type { ChatMessage, Session } from "./session.ts";
import { type CallEnv, runToolCall } from "./tool-calls.ts";
import { Commands, type Tool, Workspace, apiToolOf } from "./tools/index.ts";

export interface AgentEnv {
  config: AgentConfig;
  llm: Llm;
  tools: Map<string, Tool>;
  /** The tools as the Messages API takes them (made once: the same bytes every request, for the prompt cache). */
  apiTools: ReturnType<typeof apiToolOf>[];
  client: AgentContext;
  capabilities: ClientCapabilities;
}

/** The context window the usage updates are measured against. */
const contextWindow = 200_000;
const cache = { type: "ephemeral" } as const;

type Phase = { phase: "main" } | { phase: "review" | "fix"; pass: number };

/**
 * A prompt that fails (the API refused a request, the gateway's budget is spent, the connection was lost past
 * its retries) is undone whole: its words, what the model had answered in part, its tool calls and their
 * results leave the conversation, in memory and in the saved history. Kept, they would go out again with every
 * later prompt, and a request the API refused for its content would be refused again, for ever. The client's
 * log still shows the failed turn; the model never hears of it, so the user sends it again or something else.
 * Files its tools changed stay changed. (A cancelled prompt is not a failure: what it did is kept.)
 */
export async function runPrompt(env: AgentEnv, session: Session, prompt: ContentBlock[], signal: AbortSignal): Promise<StopReason> {
  const undo = session.checkpoint();
  try {
    return await runTurn(env, session, prompt, signal);
  } catch (err) {
    undo();
    session.save();
    throw err;
  }
}

async function runTurn(env: AgentEnv, session: Session, prompt: ContentBlock[], signal: AbortSignal): Promise<StopReason> {
  const { config, llm } = env;
  const send = (update: SessionUpdate) => env.client.notify(acp.methods.client.session.update, { sessionId: session.id, update });
  const meta = (phase: Phase) => (phase.phase === "main" ? {} : { _meta: { airlock: phase } });
  const say = (text: string, phase: Phase) => send({ sessionUpdate: "agent_message_chunk", content: { type: "text", text }, ...meta(phase) });

  const words = textOf(prompt).trim();
  if (words === "/context") {
    const context = await projectContext(session.cwd, config.stateDir, true);
    await say(context.text, { phase: "main" });
    return "end_turn";
  }

  const context = await projectContext(session.cwd, config.stateDir);
  const system: TextBlockParam[] = [
    { type: "text", text: systemPrompt(session.cwd), cache_control: cache },
    { type: "text", text: context.text, cache_control: cache },
  ];
  const ws = new Workspace(session.cwd, session.id, env.client, env.capabilities);
  const commands = new Commands(session.id, env.client, env.capabilities);
  const changes = new Changes();
  const spent = { requests: 0, output: 0 };
  const callEnv: CallEnv = {
    sessionId: session.id,
    client: env.client,
    tools: env.tools,
    ws,
    commands,
    signal,
    mode: () => session.modeId,
    allowAlways: session.allowAlways,
    remember: (name) => (session.allowAlways.add(name), session.save()),
    update: send,
    touched: (path, before) => changes.touched(path, before),
    ...(config.review ? { watchCommand: () => changes.watch(ws) } : {}),
  };
  const retrying: StreamHandlers["retrying"] = async (error, delayMs, attempt) => {
    const title = `Retrying the LLM call in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt} of ${config.maxRetries})`;
    if (env.capabilities.session?.notices) await send({ sessionUpdate: "notice", severity: "warning", title, description: error.message });
    else await send({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text: `${title}: ${error.message}\n` }, _meta: { airlock: { phase: "retry" } } });
  };
  const reportUsage = (u: Usage) => send({ sessionUpdate: "usage_update", used: u.input + u.cacheRead + u.cacheWrite + u.output, size: contextWindow });

  /** Model and tools until the model stops calling tools. */
  const toolLoop = async (phase: Phase): Promise<StopReason> => {
    for (;;) {
      if (signal.aborted) return "cancelled";
      if (spent.requests >= config.maxTurnRequests) {
        await say(`\n\n_Stopped: this prompt reached its limit of ${config.maxTurnRequests} LLM requests. Send another prompt to go on._`, phase);
        return "max_turn_requests";
      }
      if (spent.output >= config.maxTurnOutputTokens) {
        await say(`\n\n_Stopped: this prompt reached its limit of ${config.maxTurnOutputTokens} output tokens. Send another prompt to go on._`, phase);
        return "max_tokens";
      }
      spent.requests++;
      const calls: Array<Promise<ToolResultBlockParam>> = [];
      const params: Omit<MessageCreateParamsStreaming, "stream"> = {
        model: config.model,
        max_tokens: config.maxTokens,
        system,
        tools: env.apiTools,
        messages: withCacheMark(session.messages),
        ...(config.thinking ? { thinking: config.thinking } : {}),
      };
      let result;
      try {
        result = await llm.stream(
          params,
          {
            text: (text) => send({ sessionUpdate: "agent_message_chunk", content: { type: "text", text }, ...meta(phase) }),
            thinking: (text) => send({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text }, ...meta(phase) }),
            toolUse: (block) => calls.push(runToolCall(block, callEnv)),
            retrying,
          },
          signal,
        );
      } catch (err) {
        // The tools it started run to their end either way: what they do is not left half done.
        const results = await Promise.all(calls);
        if (!(err instanceof LlmAborted)) throw err; // the whole prompt is undone (see runPrompt)
        // Cancelled: keep what had arrived whole, with the results of its tools; the next prompt sees them.
        session.addAssistant(err.partial);
        session.addUser(results);
        session.save();
        return "cancelled";
      }
      session.addAssistant(result.content);
      spent.output += result.usage.output;
      await reportUsage(result.usage);
      if (calls.length) {
        session.addUser(await Promise.all(calls));
        session.save();
        continue;
      }
      session.save();
      if (result.stopReason === "pause_turn") continue;
      if (result.stopReason === "max_tokens" || result.stopReason === "model_context_window_exceeded") return "max_tokens";
      if (result.stopReason === "refusal") return "refusal";
      return "end_turn";
    }
  };

  session.addUser(toApiBlocks(prompt));
  session.save();
  let stop = await toolLoop({ phase: "main" });
  if (!config.review || stop !== "end_turn" || !changes.size) return stop;

  for (let pass = 1; ; pass++) {
    const diff = await changes.diff(ws);
    if (!diff) return stop;
    if (spent.requests >= config.maxTurnRequests) return "max_turn_requests";
    const phase: Phase = { phase: "review", pass };
    await say(`\n\n---\n**Self-review ${pass}** (${config.reviewModel}) of the changes to ${changedNames(diff)}:\n\n`, phase);
    spent.requests++;
    let verdict;
    try {
      verdict = await review(llm, config.reviewModel, words, diff, { text: (text) => say(text, phase), retrying }, signal);
    } catch (err) {
      if (err instanceof LlmAborted) return "cancelled";
      throw err;
    }
    spent.output += verdict.result.usage.output;
    if (verdict.approved) {
      await say("\n", phase);
      return stop;
    }
    if (pass > config.maxFixPasses) {
      await say(`\n\n_The review still found issues after ${config.maxFixPasses} fix pass${config.maxFixPasses === 1 ? "" : "es"}; they are listed above for you to decide._`, phase);
      return stop;
    }
    session.addUser([{ type: "text", text: fixRequest(verdict.text, pass, config.maxFixPasses) }]);
    const fix: Phase = { phase: "fix", pass };
    await say(`\n\n---\n**Fix pass ${pass} of ${config.maxFixPasses}**, for the review's findings:\n\n`, fix);
    stop = await toolLoop(fix);
    if (stop !== "end_turn") return stop;
  }
}

/** The messages with a prompt-cache mark on the newest block: the whole conversation so far is cached. */
function withCacheMark(messages: ChatMessage[]): ChatMessage[] {
  const last = messages.at(-1);
  if (!last) return messages;
  const blocks: ContentBlockParam[] = typeof last.content === "string" ? [{ type: "text", text: last.content }] : last.content;
  const end = blocks.at(-1);
  if (!end || end.type === "thinking" || end.type === "redacted_thinking") return messages;
  return [...messages.slice(0, -1), { role: last.role, content: [...blocks.slice(0, -1), { ...end, cache_control: cache } as ContentBlockParam] } as ChatMessage];
}

/** ACP prompt content as Messages API blocks: text, images, and resources as text the model can read. */
function toApiBlocks(prompt: ContentBlock[]): ContentBlockParam[] {
  const out: ContentBlockParam[] = [];
  for (const block of prompt) {
    if (block.type === "text" && block.text) out.push({ type: "text", text: block.text });
    else if (block.type === "image" && /^image\/(png|jpeg|gif|webp)$/.test(block.mimeType)) {
      out.push({ type: "image", source: { type: "base64", media_type: block.mimeType as "image/png", data: block.data } });
    } else if (block.type === "resource_link") out.push({ type: "text", text: `[${block.name ?? "file"}](${block.uri})` });
    else if (block.type === "resource" && "text" in block.resource) out.push({ type: "text", text: `<resource uri="${block.resource.uri}">\n${block.resource.text}\n</resource>` });
  }
  return out.length ? out : [{ type: "text", text: "(empty prompt)" }];
}

function textOf(prompt: ContentBlock[]): string {
  return prompt.map((b) => (b.type === "text" ? b.text : b.type === "resource_link" ? b.uri : "")).filter(Boolean).join("\n");
}

function changedNames(diff: string): string {
  const names = [...diff.matchAll(/^\+\+\+ (?:b\/)?(.+)$/gm)].map((m) => m[1]).filter((n) => n !== "/dev/null");
  return names.length > 4 ? `${names.slice(0, 4).join(", ")} and ${names.length - 4} more` : names.join(", ");
}
