import { fileURLToPath } from "node:url";

export * from "./client.ts";

/** The bundled relay (built by `npm run build -w @airlock/sandboxd`, which `npm ci` runs). */
export const sandboxdPath = fileURLToPath(new URL("../dist/sandboxd.js", import.meta.url));
export { diskUsage, type DiskUsage } from "./disk.ts";
