/**
 * @module local-error — JSON-RPC errors for the requests sandboxd answers itself.
 */

export class LocalError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "LocalError";
  }

  static invalidParams(message: string): LocalError {
    return new LocalError(-32602, message);
  }
  static methodNotFound(method: string): LocalError {
    return new LocalError(-32601, `method not found: ${method}`);
  }
  /** ACP's "resource not found". */
  static notFound(message: string): LocalError {
    return new LocalError(-32002, message);
  }
  static internal(message: string): LocalError {
    return new LocalError(-32603, message);
  }

  /** A file-system error as the agent should see it. */
  static fromFs(err: unknown, path: string): LocalError {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return LocalError.notFound(`${path} does not exist`);
    if (code === "EISDIR") return LocalError.invalidParams(`${path} is a folder`);
    if (code === "ENOTDIR") return LocalError.invalidParams(`a parent of ${path} is not a folder`);
    if (code === "ELOOP") return LocalError.invalidParams(`${path} is a symlink loop`);
    if (code === "EACCES" || code === "EPERM") return new LocalError(-32603, `permission denied: ${path}`);
    return LocalError.internal(`${path}: ${reasonOf(err)}`);
  }

  /** Any thrown value as a JSON-RPC error object. */
  static toJson(err: unknown): { code: number; message: string } {
    if (err instanceof LocalError) return { code: err.code, message: err.message };
    return { code: -32603, message: reasonOf(err) };
  }
}

/**
 * Node's message without the path it names (`ENAMETOOLONG: name too long, open '/srv/…/workspace/…'`): that is
 * the host's path, which the agent (and whoever reads its events) must not learn; the caller names the path.
 */
export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/, \w+ '.*$/s, "");
}
