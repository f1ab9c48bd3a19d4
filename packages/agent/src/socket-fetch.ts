/**
 * @module socket-fetch — `fetch` over a unix socket, for the Anthropic SDK. In a local sandbox Airlock binds
 * the session's gateway socket at AIRLOCK_GATEWAY_SOCKET: talking HTTP to it directly skips the loopback
 * forwarder other agents need (one process and one hop less for every streamed token).
 *
 * Only what the SDK uses: a method, headers, a string or byte body, an abort signal, and a streamed answer.
 */
import http from "node:http";
import { Readable } from "node:stream";

export function socketFetch(socketPath: string): typeof fetch {
  const agent = new http.Agent({ keepAlive: true, socketPath } as http.AgentOptions);
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((value, name) => (headers[name] = value));
      const body = init?.body;
      if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
        return reject(new TypeError("socketFetch sends only string or byte bodies"));
      }
      const req = http.request(
        { agent, socketPath, path: url.pathname + url.search, method: init?.method ?? "GET", headers: { ...headers, host: url.host }, signal: init?.signal ?? undefined },
        (res) => {
          const answer = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) answer.set(name, Array.isArray(value) ? value.join(", ") : value);
          const stream = res.statusCode === 204 || res.statusCode === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          resolve(new Response(stream, { status: res.statusCode, statusText: res.statusMessage, headers: answer }));
        },
      );
      req.once("error", reject);
      req.end(body ?? undefined);
    });
}
