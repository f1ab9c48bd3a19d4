import { describe, expect, it } from "vitest";
import { which } from "./host.ts";
import { explain, preflight } from "./preflight.ts";
import { testProvider } from "./test-support.ts";

describe("preflight", () => {
  it("passes on this host: a real sandbox starts and runs node as uid 1000", async () => {
    const report = await preflight();
    expect(report.problems.filter((p) => !["slirp4netns_missing", "network_needs_root", "limits_unavailable"].includes(p.code))).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it("through the provider, also checks the relay is built", async () => {
    const ok = testProvider();
    const missing = testProvider({ sandboxdPath: "/nonexistent/sandboxd.js" });
    try {
      expect((await ok.provider.preflight()).ok).toBe(true);
      const report = await missing.provider.preflight();
      expect(report.ok).toBe(false);
      expect(report.problems).toContainEqual(expect.objectContaining({ code: "relay_missing", fix: expect.stringContaining("npm") }));
    } finally {
      ok.cleanup();
      missing.cleanup();
    }
  });

  it("turns bubblewrap's errors into the fix", () => {
    expect(explain("bwrap: setting up uid map: Permission denied")).toMatchObject({ code: "userns_apparmor", fix: expect.stringContaining("kernel.apparmor_restrict_unprivileged_userns=0") });
    expect(explain("bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.")).toMatchObject({
      code: "userns_disabled",
      fix: expect.stringContaining("kernel.unprivileged_userns_clone=1"),
    });
    expect(explain("bwrap: something else")).toMatchObject({ code: "bwrap_failed", message: expect.stringContaining("something else") });
  });

  it("knows where the programs are", () => {
    expect(which("bwrap")).toMatch(/^\/.*\/bwrap$/);
    expect(which("no-such-program-airlock")).toBeNull();
  });
});
