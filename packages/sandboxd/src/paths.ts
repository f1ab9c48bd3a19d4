/**
 * @module paths — maps the agent's paths to sandboxd's and refuses anything outside the workspace,
 * symlinks included.
 */
import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

export class Workspace {
  readonly realRoot: string;
  constructor(
    readonly hostPath: string,
    readonly sandboxPath: string,
  ) {
    this.realRoot = realpathSync(hostPath);
  }

  /** The host path for an agent path, or an error when it leaves the workspace. */
  resolve(agentPath: string): { host: string; relative: string } {
    if (typeof agentPath !== "string" || agentPath.includes("\0")) throw new Error("invalid path");
    const inSandbox = isAbsolute(agentPath) ? resolve(agentPath) : resolve(this.sandboxPath, agentPath);
    const rel = relative(this.sandboxPath, inSandbox);
    if (rel.startsWith("..") || isAbsolute(rel)) throw new Error(`${agentPath} is outside the workspace ${this.sandboxPath}`);
    const host = join(this.hostPath, rel);
    // Follow symlinks of the path, or of its nearest existing parent for a new file.
    let probe = host;
    while (!existsSync(probe) && probe !== this.hostPath) probe = dirname(probe);
    const real = realpathSync(probe);
    if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) throw new Error(`${agentPath} leads outside the workspace`);
    return { host, relative: rel.split(sep).join("/") };
  }
}
