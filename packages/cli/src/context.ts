/**
 * @module context — what a command runs with: the server's client and the process's streams (tests and the
 * real binary differ only here).
 */
import type { AirlockClient } from "@airlock/client";
import { type CliEnv, clientOf, readEnv } from "./env.ts";

export interface Context {
  env: CliEnv;
  client: AirlockClient;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

export function processContext(): Context {
  const env = readEnv();
  return { env, client: clientOf(env), stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}
