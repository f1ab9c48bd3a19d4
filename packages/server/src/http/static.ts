/**
 * @module static — serves the built web UI (`packages/web/dist`) with a fallback to `index.html`, so that
 * `/sessions/<id>` opens the app on a reload or a shared link.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Hono } from "hono";
import { serveStatic } from "@hono/node-server/serve-static";

export const webDist = fileURLToPath(new URL("../../../web/dist", import.meta.url));

export function serveWeb(app: Hono<any>, root = webDist): void {
  const index = join(root, "index.html");
  if (!existsSync(index)) {
    app.get("/", (c) =>
      c.html(
        `<!doctype html><title>Airlock</title><p>Airlock's API is running, but the web UI is not built. Run <code>npm run build -w @airlock/web</code> (npm ci does it).</p>`,
      ),
    );
    return;
  }
  app.use("/assets/*", serveStatic({ root, onFound: (_p, c) => c.header("cache-control", "public, max-age=31536000, immutable") }));
  app.use("*", serveStatic({ root }));
  const html = () => readFileSync(index, "utf8");
  app.get("*", (c) => (c.req.path.startsWith("/v1/") ? c.notFound() : c.html(html())));
}
