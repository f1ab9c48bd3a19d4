/**
 * @module shared-file — a small value made once per data folder and then read by every node that shares it.
 */
import { readFileSync, writeFileSync } from "node:fs";

/**
 * The file's trimmed content; made with `make()` when missing. Nodes starting at once on a new shared folder all
 * end up with the same value: only one exclusive create wins, the others read what it wrote (waiting the moment
 * between its create and its write).
 */
export function readOrCreate(file: string, make: () => string): string {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const text = readFileSync(file, "utf8").trim();
      if (text) return text;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      const value = make();
      try {
        writeFileSync(file, value + "\n", { mode: 0o600, flag: "wx" });
        return value;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // another node is writing it
  }
  throw new Error(`${file} stays empty; remove it and start again`);
}
