/**
 * @module user-prefix — where a sandbox's user installs tools: npm's global prefix is `~/.local` (writable,
 * unlike the system's), and `~/.local/bin` is on the PATH of the agent, its commands, setup commands and
 * services, so a tool a setup command installs (`npm install -g x`, `pip install --user x`, a script copied
 * there) runs by name.
 *
 * The folder goes at the END of PATH: sandboxd resolves the sandbox's wrap programs (`setpriv`, `prlimit`) with
 * this PATH, outside the sandbox's user, and a folder the agent can write must never shadow them.
 */
export function withUserPrefix(env: Record<string, string>, home: string): Record<string, string> {
  const bin = `${home}/.local/bin`;
  const path = env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  if (!path.split(":").includes(bin)) env.PATH = `${path}:${bin}`;
  env.NPM_CONFIG_PREFIX ??= `${home}/.local`;
  return env;
}
