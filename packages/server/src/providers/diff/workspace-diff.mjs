/**
 * workspace-diff — records a workspace (`baseline`) and diffs it against that record (`diff`), bounded and
 * safe whatever the workspace holds. Plain JavaScript with no dependency: the local provider runs it on the
 * host, the E2B provider inside the sandbox (as root), so both diff the same way.
 *
 *   node workspace-diff.mjs '{"mode":"baseline"|"diff","gitDir":…,"workTree":…,"tmpDir":…,"limits":{…}}'
 *
 * Prints one JSON object `{diff, truncated, notes}`; exit 3 when git is missing, 4 when there is no baseline.
 *
 * Why not `git add -A`: git takes a folder holding `.git` for a nested repository (`git init sub` by the agent
 * made `add` fail, and the API answer a 500) and reads every file whole (minutes on a workspace of a few GB).
 * Here the walk is ours: a nested repository is a plain folder (its `.git` left out), a file over
 * `maxFileBytes` is recorded as a one-line summary (size and mtime: a change shows, its content is never
 * read), and the walk stops at `maxFiles`, `maxReadBytes` and `timeMs`, which sets `truncated` (files not
 * reached count as unchanged). Blobs are written by hand as loose objects into the diff's own object folder
 * (the baseline's objects as alternates), so diffs run side by side and never grow the baseline.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";

const job = JSON.parse(process.argv.at(-1));
const limits = { maxDiffBytes: 4 << 20, maxFileBytes: 8 << 20, maxReadBytes: 512 << 20, maxFiles: 200_000, timeMs: 30_000, maxNotes: 20, ...job.limits };
const deadline = Date.now() + limits.timeMs;
const realRoot = realpathSync(job.workTree);
const baseline = job.mode === "baseline";
const objects = baseline ? join(job.gitDir, "objects") : join(job.tmpDir, "objects");
const notes = [];
let truncated = false;
const note = (text) => {
  if (notes.length < limits.maxNotes) notes.push(text);
  else if (notes.length === limits.maxNotes) notes.push("(more notes left out)");
};

const env = {
  PATH: process.env.PATH || "/usr/local/bin:/usr/bin:/bin",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  HOME: "/nonexistent",
  LANG: "C",
  ...(baseline ? {} : { GIT_INDEX_FILE: join(job.tmpDir, "index"), GIT_OBJECT_DIRECTORY: objects, GIT_ALTERNATE_OBJECT_DIRECTORIES: join(job.gitDir, "objects") }),
};
const common = ["-c", "core.quotePath=false", "-c", "core.autocrlf=false", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "safe.directory=*", `--git-dir=${job.gitDir}`, `--work-tree=${job.workTree}`];

/** Runs git; keeps at most `maxBytes` of stdout (stopping git past that, or at `timeoutMs`). */
function git(args, { input, maxBytes = 1 << 20, timeoutMs = Math.max(deadline - Date.now(), 1000) } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn("git", [...common, ...args], { env, stdio: ["pipe", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    const chunks = [];
    let bytes = 0;
    let cut = false;
    let stderr = "";
    proc.stdout.on("data", (chunk) => {
      if (cut) return;
      if (bytes + chunk.length > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - bytes));
        cut = true;
        proc.kill("SIGKILL");
        return;
      }
      chunks.push(chunk);
      bytes += chunk.length;
    });
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    proc.stdin.on("error", () => {});
    proc.stdin.end(input ?? "");
    proc.on("error", (err) => (err.code === "ENOENT" ? exit(3, "git is not installed") : reject(err)));
    proc.on("close", (code, signal) => {
      const stdout = Buffer.concat(chunks);
      if (code === 0 || cut) resolve({ stdout, cut, timedOut: false });
      else if (signal === "SIGKILL") resolve({ stdout, cut: true, timedOut: true });
      else reject(new Error(`git ${args[0]} failed (${signal ?? code}): ${stderr.trim()}`));
    });
  });
}

function exit(code, message) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Writes a blob as a loose object (unless known to exist) and returns its id. */
function blob(content, known) {
  const header = Buffer.from(`blob ${content.length}\0`);
  const id = createHash("sha1").update(header).update(content).digest("hex");
  if (known.has(id)) return id;
  const dir = join(objects, id.slice(0, 2));
  const file = join(dir, id.slice(2));
  if (!existsSync(file) && !(!baseline && existsSync(join(job.gitDir, "objects", id.slice(0, 2), id.slice(2))))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, deflateSync(Buffer.concat([header, content]), { level: 1 }));
  }
  known.add(id);
  return id;
}

/** The baseline's entries: path → "mode id". */
async function baselineEntries() {
  await git(["read-tree", "HEAD"]);
  const { stdout } = await git(["ls-files", "-s", "-z"], { maxBytes: 1 << 30 });
  const entries = new Map();
  for (const record of stdout.toString("utf8").split("\0")) {
    const m = /^(\d+) ([0-9a-f]+) \d\t(.*)$/s.exec(record);
    if (m) entries.set(m[3], `${m[1]} ${m[2]}`);
  }
  return entries;
}

async function main() {
  if (baseline) {
    await git(["-c", "init.defaultBranch=main", "init", "--quiet"]);
  } else {
    if (!existsSync(job.gitDir)) exit(4, "no baseline");
    mkdirSync(objects, { recursive: true });
  }
  const before = baseline ? new Map() : await baselineEntries();
  const known = new Set([...before.values()].map((v) => v.split(" ")[1]));
  const seen = new Set();
  const lines = [];
  /** Large files whose baseline entry is not the summary: a baseline made before summaries held their content. */
  const large = [];
  let files = 0;
  let readBytes = 0;
  let stopped = null;
  const stop = (why) => {
    stopped ??= why;
    truncated = true;
  };

  const visit = (rel) => {
    const host = rel ? join(job.workTree, rel) : job.workTree;
    let names;
    try {
      // A folder swapped for a symlink since its lstat must not list a host folder.
      if (!insideRoot(host)) throw Object.assign(new Error("outside the workspace"), { code: "EXDEV" });
      names = readdirSync(host).sort();
    } catch (err) {
      note(`${rel || "."}/ could not be read (${err.code}): its files count as unchanged`);
      return;
    }
    if (rel && names.includes(".git")) note(`${rel}/ is a git repository of its own: diffed as a plain folder, its .git left out`);
    for (const name of names) {
      if (stopped) return;
      // git refuses any path with a .git component (any case): a nested repository's own data is not diffed.
      if (name.toLowerCase() === ".git") continue;
      const path = rel ? `${rel}/${name}` : name;
      if (Date.now() > deadline) return stop(`the diff's time bound (${limits.timeMs / 1000} s) was reached`);
      let st;
      try {
        st = lstatSync(join(host, name));
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        visit(path);
        continue;
      }
      if (!st.isFile() && !st.isSymbolicLink()) continue;
      if (++files > limits.maxFiles) return stop(`the workspace has over ${limits.maxFiles} files`);
      seen.add(path);
      let mode = "100644";
      let content;
      let summarized = null;
      try {
        if (st.isSymbolicLink()) {
          mode = "120000";
          content = Buffer.from(readlinkSync(join(host, name)));
        } else {
          if (st.mode & 0o111) mode = "100755";
          if (st.size > limits.maxFileBytes) {
            summarized = `${path}: ${st.size} bytes, over ${limits.maxFileBytes}: compared by size and time, not content`;
            content = Buffer.from(`[Airlock: a file of ${st.size} bytes, modified ${st.mtime.toISOString()}; too large to diff]\n`);
          } else if (!baseline && readBytes + st.size > limits.maxReadBytes) {
            stop(`the diff's read bound (${limits.maxReadBytes} bytes) was reached`);
            seen.delete(path);
            return;
          } else {
            readBytes += st.size;
            content = readBounded(join(host, name), limits.maxFileBytes);
          }
        }
      } catch (err) {
        note(`${path} could not be read (${err.code ?? err.message}): it counts as unchanged`);
        if (before.has(path)) continue;
        content = Buffer.from(`[Airlock: this file could not be read (${err.code ?? "error"})]\n`);
      }
      const entry = `${mode} ${blob(content, known)}`;
      if (before.get(path) === entry) continue;
      if (summarized && before.has(path)) large.push({ path, entry, size: st.size, note: summarized });
      else {
        lines.push(`${entry}\t${path}\0`);
        if (summarized && !baseline) note(summarized);
      }
    }
  };
  visit("");
  if (large.length) {
    // Unchanged when the baseline's blob has the file's size (compared without reading the file).
    const ids = large.map((l) => before.get(l.path).split(" ")[1]);
    const { stdout } = await git(["cat-file", "--batch-check=%(objectsize)"], { input: ids.join("\n") + "\n" });
    const sizes = stdout.toString().split("\n");
    large.forEach((l, i) => {
      if (Number(sizes[i]) === l.size && before.get(l.path).split(" ")[0] === l.entry.split(" ")[0]) return;
      lines.push(`${l.entry}\t${l.path}\0`);
      note(l.note);
    });
  }
  if (stopped) note(`incomplete: ${stopped}; the files not reached count as unchanged`);

  // Gone since the baseline: only what is really missing (an unreached file is not a deleted one).
  const removals = [];
  for (const path of before.keys()) {
    if (seen.has(path)) continue;
    try {
      lstatSync(join(job.workTree, path));
    } catch (err) {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") removals.push(`0 ${"0".repeat(40)}\t${path}\0`);
    }
  }
  // Removals first: a file may now stand where a folder was, or the reverse.
  const input = removals.join("") + lines.join("");
  if (input) await git(["update-index", "--add", "--replace", "-z", "--index-info"], { input, timeoutMs: Math.max(deadline - Date.now(), 0) + 30_000 });

  if (baseline) {
    const tree = (await git(["write-tree"])).stdout.toString().trim();
    const commit = (await git(["-c", "user.name=airlock", "-c", "user.email=airlock@localhost", "commit-tree", tree, "-m", "workspace at session start"])).stdout.toString().trim();
    await git(["update-ref", "HEAD", commit]);
    return { diff: "", truncated, notes };
  }
  const out = await git(["diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv", "HEAD"], { maxBytes: limits.maxDiffBytes });
  if (out.timedOut) note(`incomplete: the diff's time bound (${limits.timeMs / 1000} s) was reached while writing it`);
  else if (out.cut) note(`incomplete: the diff was cut at ${limits.maxDiffBytes} bytes`);
  if (out.cut) truncated = true;
  return { diff: out.stdout.toString("utf8"), truncated, notes };
}

/**
 * Reads at most `max` bytes of a regular file of the workspace (it may grow between stat and read). The agent
 * can swap what a path names between our lstat and open: a FIFO (an open that never returns: O_NONBLOCK), a
 * symlink (O_NOFOLLOW), a parent folder turned into a symlink to a host folder (the file actually opened,
 * per /proc/self/fd, must be inside the workspace). Any of these reads nothing.
 */
function readBounded(path, max) {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error("not a regular file"), { code: "ENOTREG" });
    if (!insideRoot(`/proc/self/fd/${fd}`)) throw Object.assign(new Error("outside the workspace"), { code: "EXDEV" });
    const chunks = [];
    let total = 0;
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      total += n;
      if (total > max) break;
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` (resolved through every symlink) is the workspace or inside it; true where /proc is missing for an fd. */
function insideRoot(path) {
  let real;
  try {
    real = path.startsWith("/proc/self/fd/") ? readlinkSync(path) : realpathSync(path);
  } catch {
    return path.startsWith("/proc/self/fd/");
  }
  return real === realRoot || real.startsWith(realRoot + "/");
}

main().then(
  (result) => process.stdout.write(JSON.stringify(result)),
  (err) => exit(1, err.message),
);
