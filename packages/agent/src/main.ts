/**
 * @module main — Airlock's built-in coding agent, an ACP agent over stdio. Airlock runs it in the session's
 * sandbox, where it reaches the LLM only through Airlock's gateway (ANTHROPIC_BASE_URL, with the session's
 * token as ANTHROPIC_API_KEY). Bundled by `build.mjs` into one file that needs nothing but Node.
 */
import { Readable, Writable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";
import { createAgent } from "./agent.ts";
import { readConfig } from "./config.ts";

// The client went away (EPIPE): there is nobody left to work for.
process.stdout.on("error", () => process.exit(0));

const connection = createAgent(readConfig()).connect(
  acp.ndJsonStream(Writable.toWeb(process.stdout) as WritableStream<Uint8Array>, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>),
);
// stdin closed: the client is done with us.
void connection.closed.then(() => process.exit(0));
