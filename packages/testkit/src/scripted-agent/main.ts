/**
 * @module scripted-agent — a real ACP agent over stdio whose behaviour is picked by a keyword in the prompt.
 * Airlock's tests and benchmarks drive it; users meet it as the `scripted` demo agent that needs no LLM.
 * Bundled by `build.mjs` into one file (`dist/scripted-agent.mjs`) that needs nothing but Node.
 */
import { Readable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";
import { createScriptedAgent } from "./agent.ts";
import { Output } from "./output.ts";

const output = new Output(process.stdout);
// The client went away (EPIPE): there is nobody left to work for.
process.stdout.on("error", () => process.exit(0));

const connection = createScriptedAgent(output).connect(
  acp.ndJsonStream(output.writable(), Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>),
);
// stdin closed: the client is done with us.
void connection.closed.then(() => process.exit(0));
