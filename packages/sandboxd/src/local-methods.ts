/**
 * @module local-methods — the client-side ACP methods that belong to the sandbox (`fs/*`, `terminal/*`):
 * sandboxd answers them itself, so they never wait on the control plane.
 */
import type { FileChange } from "./file-diff.ts";
import { readTextFile, writeTextFile } from "./fs-methods.ts";
import { LocalError } from "./local-error.ts";
import type { Workspace } from "./paths.ts";
import type { Terminals } from "./terminals.ts";

/** Whether sandboxd answers this agent → client method itself. */
export function isLocalMethod(method: string): boolean {
  return method.startsWith("fs/") || method.startsWith("terminal/");
}

export class LocalMethods {
  constructor(
    private readonly workspace: Workspace,
    private readonly terminals: Terminals,
    private readonly maxDiffBytes: number,
    /** `real` is the host path written, so the workspace snapshot takes the write in without a second record. */
    private readonly onFileChange: (change: FileChange & { real: string }) => void,
  ) {}

  async handle(method: string, params: unknown): Promise<unknown> {
    const p = (params && typeof params === "object" ? params : {}) as Record<string, unknown>;
    switch (method) {
      case "fs/read_text_file":
        return readTextFile(this.workspace, p);
      case "fs/write_text_file":
        this.onFileChange(writeTextFile(this.workspace, p, this.maxDiffBytes));
        return {};
      case "terminal/create":
        return this.terminals.create(p);
      case "terminal/output":
        return this.terminals.output(p.terminalId);
      case "terminal/wait_for_exit":
        return this.terminals.waitForExit(p.terminalId);
      case "terminal/kill":
        return this.terminals.kill(p.terminalId);
      case "terminal/release":
        return this.terminals.release(p.terminalId);
      default:
        throw LocalError.methodNotFound(method);
    }
  }
}
