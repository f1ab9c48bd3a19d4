/**
 * @module process-rpc — envd's `process.Process` service on a fake sandbox: Start and Connect (server
 * streams of start / data / keepalive / end events), List, SendInput, CloseStdin, SendSignal.
 *
 * As in envd, a process outlives the stream that started it (closing the stream only stops the output), and
 * a `Connect-Timeout-Ms` header on Start kills the process when it runs out: the SDK's default `timeoutMs`
 * of 60 s does this to background commands unless they pass `timeoutMs: 0`.
 */
import type { IncomingHttpHeaders } from "node:http";
import { ConnectError, type ServerStream } from "./connect-rpc.ts";
import type { Vm, VmProcess, VmUser } from "./vm.ts";

type DataEvent = { stdout: Buffer } | { stderr: Buffer };

/** Streams a process's events until it ends or the stream closes; the process keeps running either way. */
function pipeProcess(proc: VmProcess, stream: ServerStream, headers: IncomingHttpHeaders, backlog: Array<["data", DataEvent] | ["end"]>): void {
  const event = (e: unknown) => ({ event: e });
  stream.send(event({ start: { pid: proc.pid } }));
  const onData = (d: DataEvent) => stream.send(event({ data: "stdout" in d ? { stdout: d.stdout.toString("base64") } : { stderr: d.stderr.toString("base64") } }));
  const onEnd = () => {
    const end = proc.end!;
    stream.send(event({ end: { exitCode: end.exitCode, exited: end.exited, status: end.status, ...(end.error ? { error: end.error } : {}) } }));
    stream.end();
    cleanup();
  };
  const interval = Number(headers["keepalive-ping-interval"] ?? 0);
  const keepalive = interval > 0 ? setInterval(() => stream.send(event({ keepalive: {} })), interval * 1000) : null;
  const cleanup = () => {
    proc.off("data", onData);
    proc.off("end", onEnd);
    if (keepalive) clearInterval(keepalive);
  };
  for (const [kind, d] of backlog) {
    if (kind === "data") onData(d);
    else return onEnd();
  }
  if (proc.end) return onEnd();
  proc.on("data", onData);
  proc.on("end", onEnd);
  stream.onClose(cleanup);
}

export async function startProcess(vm: Vm, msg: any, user: VmUser, envs: Record<string, string>, headers: IncomingHttpHeaders, stream: ServerStream): Promise<void> {
  const config = msg.process ?? {};
  if (!config.cmd) throw new ConnectError("invalid_argument", "process.cmd is required");
  if (msg.pty) throw new ConnectError("unimplemented", "PTY processes are not imitated by the fake");
  const cwd = config.cwd || user.home;
  if (!vm.exists(cwd)) throw new ConnectError("invalid_argument", `cwd '${cwd}' does not exist`);
  const timeoutMs = Number(headers["connect-timeout-ms"] ?? 0);
  const proc = vm.exec({
    cmd: config.cmd,
    args: config.args ?? [],
    envs: { ...envs, ...(config.envs ?? {}) },
    cwd,
    user,
    // envd defaults stdin to open for old clients; the SDK sends `stdin: false` unless asked.
    stdin: msg.stdin ?? true,
    tag: msg.tag,
    timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : 0,
  });
  // Output can arrive before the pid is known: keep it for the stream.
  const backlog: Array<["data", DataEvent] | ["end"]> = [];
  const early = (d: DataEvent) => backlog.push(["data", d]);
  const earlyEnd = () => backlog.push(["end"]);
  proc.on("data", early);
  proc.once("end", earlyEnd);
  await proc.started;
  proc.off("data", early);
  proc.off("end", earlyEnd);
  pipeProcess(proc, stream, headers, backlog);
}

export function connectProcess(vm: Vm, msg: any, headers: IncomingHttpHeaders, stream: ServerStream): void {
  const proc = select(vm, msg.process, true);
  pipeProcess(proc, stream, headers, proc.end ? [["end"]] : []);
}

export function processRpc(vm: Vm, method: string, msg: any): unknown {
  switch (method) {
    case "List":
      return {
        processes: [...vm.processes.values()].map((p) => ({
          config: { cmd: p.config.cmd, args: p.config.args, envs: p.config.envs, ...(p.config.cwd ? { cwd: p.config.cwd } : {}) },
          pid: p.pid,
          ...(p.config.tag ? { tag: p.config.tag } : {}),
        })),
      };
    case "SendInput": {
      const proc = select(vm, msg.process);
      if (!proc.stdin || proc.stdin.writableEnded) throw new ConnectError("failed_precondition", "stdin is not enabled or was closed");
      const data = msg.input?.stdin ?? msg.input?.pty;
      if (typeof data === "string") proc.stdin.write(Buffer.from(data, "base64"));
      return {};
    }
    case "CloseStdin": {
      const proc = select(vm, msg.process);
      proc.stdin?.end();
      return {};
    }
    case "SendSignal": {
      const proc = select(vm, msg.process);
      const sig = msg.signal === "SIGNAL_SIGTERM" || msg.signal === 15 ? "SIGTERM" : msg.signal === "SIGNAL_SIGKILL" || msg.signal === 9 ? "SIGKILL" : null;
      if (!sig) throw new ConnectError("invalid_argument", `unsupported signal ${JSON.stringify(msg.signal)}`);
      proc.signal(sig);
      return {};
    }
    default:
      throw new ConnectError("unimplemented", `process.Process/${method} is not imitated by the fake`);
  }
}

function select(vm: Vm, selector: any, includeEnded = false): VmProcess {
  const pool = includeEnded ? [...vm.processes.values(), ...vm.ended.values()] : [...vm.processes.values()];
  const pid = selector?.pid;
  const tag = selector?.tag;
  const proc = pool.find((p) => (pid !== undefined ? p.pid === Number(pid) : tag !== undefined && p.config.tag === tag));
  if (!proc) throw new ConnectError("not_found", `process with ${pid !== undefined ? `pid ${pid}` : `tag ${tag}`} not found`);
  return proc;
}
