import { startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
const llm = await startFakeAnthropic();
llm.respond(() => ({ text: "x".repeat(25), pieces: 25, delayMs: 4, timestamps: true }));
console.log(llm.url);
