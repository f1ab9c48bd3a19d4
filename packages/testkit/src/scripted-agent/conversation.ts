/**
 * @module conversation — the talking behaviours: the introduction (no keyword), `echo`, `recall` and `think`.
 */
import { type Behaviour, reply, sleep, stream } from "./turn.ts";

/** The answer to a prompt with no keyword, one string per streamed chunk. */
export const introduction = [
  "Hi! I'm the scripted demo agent. I don't use a language model: a keyword in your prompt picks what I do. ",
  "Try `think`, `plan`, `tool` or `permission` to see reasoning, a plan, a file edit or a request for approval. ",
  "`write notes.md hello`, `read notes.md` and `run ls -la` work with files and a terminal in the workspace; `ask` asks you a question. ",
  "`slow 10` streams for ten seconds (try cancelling it), `echo …` repeats you and `recall` lists what you said so far.",
];

export const intro: Behaviour = async (turn) => {
  for (const chunk of introduction) {
    await turn.say(chunk);
    await sleep(40, turn.signal);
  }
  return "end_turn";
};

export const echo: Behaviour = (turn) => reply(turn, turn.text);

export const recall: Behaviour = async (turn) => {
  if (turn.history.length === 0) return reply(turn, "This is the first prompt of this session: there is nothing to recall yet.");
  const lines = turn.history.map((exchange, i) => `${i + 1}. ${exchange.prompt}`);
  const count = turn.history.length === 1 ? "one prompt" : `${turn.history.length} prompts`;
  await turn.say(`Before this one you sent me ${count} in this session:\n`);
  for (const line of lines) await turn.say(`${line}\n`);
  return "end_turn";
};

export const think: Behaviour = async (turn) => {
  const thought = (text: string) => turn.update({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text } });
  await thought("The user wants to see how thinking looks. ");
  await thought("I'll think a little, answer, then think again before concluding.");
  await sleep(60, turn.signal);
  await stream(turn, "Thoughts arrive as `agent_thought_chunk` updates, separate from the answer. ", 2);
  await thought("Is there anything to add? ");
  await thought("Only that the two kinds can alternate within one turn.");
  await sleep(60, turn.signal);
  await stream(turn, "And as you see, thinking and answering can take turns.", 2);
  return turn.signal.aborted ? "cancelled" : "end_turn";
};
