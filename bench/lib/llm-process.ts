/**
 * The scripted Anthropic server in a process of its own, driven over IPC: in the benchmark's own process its
 * garbage collections and compilations would stall the tokens it stamps, and be counted as Airlock's latency.
 *
 * `node --import tsx bench/lib/llm-process.ts` is the child; it forgets each request once answered, so its heap
 * does not grow with the conversation the agent sends every turn.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Reply, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";

export interface LlmProcess {
  url: string;
  /** Queues replies for the next requests, as FakeAnthropic.reply does. */
  reply(...replies: Reply[]): void;
  close(): Promise<void>;
}

export async function startLlmProcess(): Promise<LlmProcess> {
  const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (m: { url: string }) => resolve(m.url));
    child.once("exit", (code) => reject(new Error(`the scripted LLM process exited with ${code}`)));
  });
  return {
    url,
    reply: (...replies) => child.send({ replies }),
    async close() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// The child.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const llm = await startFakeAnthropic();
  llm.respond(() => {
    llm.requests.length = 0;
    return { text: "OK." };
  });
  process.on("message", (m: { replies: Reply[] }) => {
    llm.requests.length = 0;
    llm.reply(...m.replies);
  });
  process.once("SIGTERM", () => llm.close().then(() => process.exit(0)));
  process.send({ url: llm.url });
}
