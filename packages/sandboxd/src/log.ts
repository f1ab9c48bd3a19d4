/**
 * @module log — sandboxd's own log (`<stateDir>/sandboxd.log`): it runs detached with stdio ignored.
 * Bounded: past `maxBytes` the file moves to `sandboxd.log.1` (replacing the older one).
 */
import { appendFileSync, renameSync, statSync } from "node:fs";

export function createLog(path: string, maxBytes = 1024 * 1024): (msg: string) => void {
  let size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  return (msg: string) => {
    const line = `${new Date().toISOString()} ${msg}\n`;
    try {
      if (size > maxBytes) {
        renameSync(path, path + ".1");
        size = 0;
      }
      appendFileSync(path, line, { mode: 0o600 });
      size += Buffer.byteLength(line);
    } catch {
      // Nowhere left to report to.
    }
  };
}
