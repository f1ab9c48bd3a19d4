/**
 * @module colors — picocolors, switched on only for a terminal (and off with NO_COLOR, on with FORCE_COLOR).
 */
import pc from "picocolors";

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0";
  const enabled = forced || (Boolean(stream.isTTY) && !("NO_COLOR" in env) && env.TERM !== "dumb");
  return pc.createColors(enabled);
}
