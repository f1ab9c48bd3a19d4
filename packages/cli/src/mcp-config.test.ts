import { describe, expect, it } from "vitest";
import { mcpServersOf } from "./mcp-config.ts";

describe("mcpServersOf", () => {
  it("takes ACP's shape as it is, and turns .mcp.json's into it", () => {
    const acp = [{ name: "fs", command: "node", args: ["s.mjs"], env: [] }];
    expect(mcpServersOf(acp)).toEqual(acp);
    expect(mcpServersOf({ mcpServers: acp })).toEqual(acp);
    expect(
      mcpServersOf({
        mcpServers: {
          fs: { command: "npx", args: ["-y", "server"], env: { LEVEL: "1" } },
          crm: { type: "http", url: "https://h/mcp", headers: { Authorization: "Bearer t" } },
          old: { type: "sse", url: "https://h/sse" },
        },
      }),
    ).toEqual([
      { name: "fs", command: "npx", args: ["-y", "server"], env: [{ name: "LEVEL", value: "1" }] },
      { type: "http", name: "crm", url: "https://h/mcp", headers: [{ name: "Authorization", value: "Bearer t" }] },
      { type: "sse", name: "old", url: "https://h/sse", headers: [] },
    ]);
    expect(() => mcpServersOf({ servers: [] })).toThrow(/give an array of servers/);
  });
});
