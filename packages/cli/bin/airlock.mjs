#!/usr/bin/env node
// The `airlock` command: the CLI is TypeScript, run through tsx's loader (a dependency of this package).
import { register } from "tsx/esm/api";

register();
const { runAsProcess } = await import("../src/main.ts");
await runAsProcess();
