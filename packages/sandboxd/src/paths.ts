/**
 * @module paths — maps the agent's paths to sandboxd's and refuses anything outside the workspace,
 * symlinks included (a symlink that points out, a dangling one, or one in a parent folder).
 */
import { lstatSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, posix, sep } from "node:path";
import { LocalError } from "./local-error.ts";

export class Workspace {
  readonly realRoot: string;

  constructor(
    readonly hostPath: string,
    readonly sandboxPath: string,
  ) {
    this.realRoot = realpathSync(hostPath);
  }

  /** The host path and workspace-relative path of an agent path, or an error when it is outside. */
  map(agentPath: unknown): { host: string; relative: string } {
    if (typeof agentPath !== "string" || agentPath === "" || agentPath.includes("\0")) throw LocalError.invalidParams("path must be a non-empty string");
    const inSandbox = posix.resolve(this.sandboxPath, agentPath);
    const rel = posix.relative(this.sandboxPath, inSandbox);
    if (rel === ".." || rel.startsWith("../") || isAbsolute(rel)) throw LocalError.invalidParams(`${agentPath} is outside the workspace ${this.sandboxPath}`);
    return { host: rel ? join(this.hostPath, rel) : this.hostPath, relative: rel };
  }

  /** The real (symlink-free) host path of an existing file of the workspace. */
  resolveExisting(agentPath: unknown): { real: string; relative: string } {
    const { host, relative: rel } = this.map(agentPath);
    let real: string;
    try {
      real = realpathSync(host);
    } catch (err) {
      if (lstatSync(host, { throwIfNoEntry: false })) throw LocalError.invalidParams(`${agentPath} is a dangling symlink`);
      throw LocalError.fromFs(err, String(agentPath));
    }
    this.checkInside(real, agentPath);
    return { real, relative: rel };
  }

  /**
   * The real host path a write to `agentPath` lands on: the file's own realpath when it exists, else the
   * realpath of its nearest existing parent plus the missing components. `missing` lists the folders to make.
   */
  resolveForWrite(agentPath: unknown): { real: string; relative: string; existed: boolean; missing: string[] } {
    const { host, relative: rel } = this.map(agentPath);
    if (rel === "") throw LocalError.invalidParams(`${agentPath} is the workspace folder itself`);
    const rest: string[] = [];
    let probe = host;
    // lstat, not exists: a dangling symlink "does not exist" yet writing through it would leave the workspace.
    while (!lstatSync(probe, { throwIfNoEntry: false })) {
      if (probe === this.hostPath) throw LocalError.internal("the workspace folder is gone");
      rest.unshift(basename(probe));
      probe = dirname(probe);
    }
    let realProbe: string;
    try {
      realProbe = realpathSync(probe);
    } catch {
      throw LocalError.invalidParams(`${agentPath} goes through a dangling symlink`);
    }
    this.checkInside(realProbe, agentPath);
    const real = rest.length ? join(realProbe, ...rest) : realProbe;
    const missing: string[] = [];
    for (let i = 1; i < rest.length; i++) missing.push(join(realProbe, ...rest.slice(0, i)));
    return { real, relative: rel, existed: rest.length === 0, missing };
  }

  private checkInside(real: string, agentPath: unknown): void {
    if (real === this.realRoot || real.startsWith(this.realRoot + sep)) return;
    throw LocalError.invalidParams(`${agentPath} leads outside the workspace`);
  }

  /** The host folder for an agent's cwd: mapped when inside the workspace, as is otherwise. */
  hostCwd(agentCwd: string): string {
    const rel = posix.relative(this.sandboxPath, posix.resolve(this.sandboxPath, agentCwd));
    if (rel === ".." || rel.startsWith("../") || isAbsolute(rel)) return agentCwd;
    return rel ? join(this.hostPath, rel) : this.hostPath;
  }
}

