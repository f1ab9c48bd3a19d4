/**
 * @module layout — where things live inside an Airlock E2B sandbox, and the one script that prepares it
 * (run by the template build, and at session start when the template is missing).
 *
 *   /workspace             the agent's files (owner agent, setgid group agent: what sandboxd writes for the
 *                          agent stays writable by it)
 *   /home/agent            the agent's home; `agent` is a user without sudo, distinct from E2B's `user`
 *   /opt/airlock/          sandboxd.js and node_modules with the pinned agent packages (template)
 *   /var/lib/airlock/      root only: sandboxd's config (token), journal and log, the workspace baseline
 */

export const agentUser = "agent";
export const workspace = "/workspace";
export const agentHome = "/home/agent";
export const optDir = "/opt/airlock";
export const sandboxdFile = `${optDir}/sandboxd.js`;
export const nodeModulesDir = `${optDir}/node_modules`;
export const privateDir = "/var/lib/airlock";
export const relayDir = `${privateDir}/relay`;
export const baselineDir = `${privateDir}/baseline.git`;
/** The default template's name (`airlock e2b template build` makes it). */
export const defaultTemplate = "airlock";
export const agentPath = "/usr/local/bin:/usr/bin:/bin";

/**
 * Makes the agent user and the folders. Idempotent: a sandbox from the built template already has all of
 * it and this returns at once. Fails (exit 10) when the image has no Node.js, which sandboxd needs.
 */
export const prepareScript = `set -e
command -v node >/dev/null 2>&1 || { echo "Node.js is not installed in this sandbox image: build the Airlock template (airlock e2b template build)" >&2; exit 10; }
id -u ${agentUser} >/dev/null 2>&1 || useradd --create-home --home-dir ${agentHome} --shell /bin/bash --user-group ${agentUser}
mkdir -p ${workspace} ${optDir} ${relayDir}
chown ${agentUser}:${agentUser} ${workspace} ${agentHome}
chmod 2775 ${workspace}
chmod 700 ${privateDir} ${relayDir}
`;

/**
 * The prefix sandboxd puts before the agent's command (and its terminals): drop from root to the agent user
 * with no way back (no new privileges), optionally under resource limits.
 */
export function agentWrap(limits: { cpuSeconds?: number; fileSizeMb?: number; pids?: number } = {}): string[] {
  const prlimit: string[] = [];
  if (limits.cpuSeconds) prlimit.push(`--cpu=${limits.cpuSeconds}`);
  if (limits.fileSizeMb) prlimit.push(`--fsize=${limits.fileSizeMb * 1024 * 1024}`);
  if (limits.pids) prlimit.push(`--nproc=${limits.pids}`);
  return [
    ...(prlimit.length ? ["prlimit", ...prlimit, "--"] : []),
    "setpriv",
    `--reuid=${agentUser}`,
    `--regid=${agentUser}`,
    "--init-groups",
    "--no-new-privs",
    "--",
  ];
}

/** Single-quotes a word for bash. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
