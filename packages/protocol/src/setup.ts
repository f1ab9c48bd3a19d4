/**
 * @module setup — what a session's sandbox is prepared with before its agent starts: setup commands (run once
 * per sandbox, in order) and background services (kept running beside the agent, their output in a bounded
 * log per service). Validated here, run by sandboxd, shown through `GET /v1/sessions/:id/services`.
 */
import { z } from "zod";

export const setupLimits = {
  maxCommands: 32,
  /** One command or service command line, in bytes. */
  maxCommandBytes: 16 * 1024,
  maxServices: 16,
  maxReadyTimeoutSec: 3600,
  defaultReadyTimeoutSec: 60,
  /** How long one setup command may run before it is killed and fails the session. */
  commandTimeoutSec: 30 * 60,
  /** A service's log file is rotated past this many bytes; one rotated file is kept. */
  serviceLogBytes: 1024 * 1024,
  /** Lines `GET .../services/:name/log?tail=` returns at most. */
  maxLogTailLines: 10_000,
} as const;

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

const commandLine = z
  .string()
  .refine((c) => c.trim() !== "", "must not be empty")
  .refine((c) => !c.includes("\0"), "must not contain a NUL character")
  .refine((c) => utf8Bytes(c) <= setupLimits.maxCommandBytes, `is longer than ${setupLimits.maxCommandBytes} bytes`);

/** A service's name: it names its log file and its URL path. */
export const serviceNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export const ServiceSpec = z
  .object({
    name: z.string().regex(serviceNamePattern, "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    command: commandLine,
    /** Ready once a TCP connection to this port inside the sandbox succeeds. */
    readyPort: z.number().int().min(1).max(65535).optional(),
    /** With `readyPort`: ready once `GET http://127.0.0.1:PORT/PATH` answers 2xx or 3xx. */
    readyPath: z
      .string()
      .max(2048)
      .regex(/^\/[\x21-\x7e]*$/, "must be a URL path starting with '/' (visible ASCII, no spaces)")
      .optional(),
    /** How long to wait for readiness before the session fails (default 60 s). */
    readyTimeoutSec: z.number().int().min(1).max(setupLimits.maxReadyTimeoutSec).optional(),
  })
  .strict()
  .refine((s) => s.readyPath === undefined || s.readyPort !== undefined, { message: "readyPath needs readyPort", path: ["readyPath"] })
  .refine((s) => s.readyTimeoutSec === undefined || s.readyPort !== undefined, { message: "readyTimeoutSec needs readyPort", path: ["readyTimeoutSec"] });
export type ServiceSpec = z.infer<typeof ServiceSpec>;

export const SessionSetup = z
  .object({
    /** Shell lines run in order in the workspace, as the agent's user with the session's env; the first failure fails the session. */
    commands: z.array(commandLine).max(setupLimits.maxCommands, `at most ${setupLimits.maxCommands} commands`).optional(),
    services: z
      .array(ServiceSpec)
      .max(setupLimits.maxServices, `at most ${setupLimits.maxServices} services`)
      .superRefine((services, ctx) => {
        const seen = new Set<string>();
        services.forEach((s, i) => {
          if (seen.has(s.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate service name "${s.name}"` });
          seen.add(s.name);
        });
      })
      .optional(),
  })
  .strict();
export type SessionSetup = z.infer<typeof SessionSetup>;

/** A service as `GET /v1/sessions/:id/services` shows it. */
export interface ServiceView {
  name: string;
  command: string;
  readyPort: number | null;
  readyPath: string | null;
  /**
   * `starting` until ready (or at once without readyPort), `running` once ready, `exited` when it ended on its
   * own, `stopped` while the session's agent (and so its services) is not running.
   */
  status: "starting" | "running" | "exited" | "stopped";
  exitCode: number | null;
  signal: string | null;
  /** ms since epoch of the latest start, null when it never started. */
  startedAt: string | null;
  /** Times it was started in this sandbox (once per start of the agent). */
  starts: number;
}

/** `GET /v1/sessions/:id/services`. */
export interface ServiceList {
  services: ServiceView[];
  /** Setup commands: how many, and whether they have all run in this sandbox (null while no relay runs to ask). */
  setup: { commands: number; done: boolean | null };
}

/** `GET /v1/sessions/:id/services/:name/log?tail=N`. */
export interface ServiceLog {
  name: string;
  /** The last lines of the service's output (stdout and stderr interleaved). */
  lines: string[];
  /** Older output was dropped (rotation, or more lines than asked for). */
  truncated: boolean;
}
