// Runs inside a local sandbox, which has no network: listens on the sandbox's own loopback and relays each
// connection to the control plane's per-session gateway socket, bound into the sandbox. That one route is
// all the agent can reach. Then it runs the agent, whose stdio stays the relay's.
//
//   node forwarder.mjs PORT SOCKET -- AGENT_ARGV...
import { spawn } from "node:child_process";
import net from "node:net";

const [port, socket, separator, ...argv] = process.argv.slice(2);
if (!port || !socket || separator !== "--" || argv.length === 0) {
  process.stderr.write("usage: forwarder.mjs PORT SOCKET -- AGENT_ARGV...\n");
  process.exit(2);
}
// No Nagle on the TCP side: a streamed token is a small write that must not wait for the agent's ACK.
const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect(socket);
  client.pipe(upstream).pipe(client);
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
});
server.listen(Number(port), "127.0.0.1", () => {
  const agent = spawn(argv[0], argv.slice(1), { stdio: "inherit" });
  agent.on("error", (err) => {
    process.stderr.write(`could not start the agent: ${err.message}\n`);
    process.exit(127);
  });
  agent.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
  for (const s of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(s, () => agent.kill(s));
});
