/**
 * @module state — everything one fake E2B knows: templates, sandboxes, injected faults, recorded calls.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { ControlRoute, Fault } from "./control-api.ts";
import { FakeSandbox, type FakeTemplate } from "./sandbox.ts";
import { Vm } from "./vm.ts";

export interface RecordedCall {
  method: string;
  path: string;
  route: ControlRoute | null;
  body: any;
}

export class FakeE2BState {
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly templates = new Map<string, FakeTemplate>();
  readonly calls: RecordedCall[] = [];
  private faults: Array<Fault & { left: number }> = [];
  /** Filled once the sandbox-side server listens: what `getHost()` ends in. */
  domain = "localhost";

  constructor(
    readonly apiKey: string,
    readonly dataDir: string,
    readonly envdVersion: string,
    readonly maxSandboxes: number | undefined,
  ) {}

  addFault(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  takeFault(route: ControlRoute): Fault | null {
    const i = this.faults.findIndex((f) => f.left > 0 && (f.route === route || f.route === "any"));
    if (i < 0) return null;
    const fault = this.faults[i];
    fault.left--;
    if (fault.left <= 0) this.faults.splice(i, 1);
    return fault;
  }

  live(): FakeSandbox[] {
    return [...this.sandboxes.values()].filter((s) => s.state !== "killed");
  }

  running(): FakeSandbox[] {
    return this.live().filter((s) => s.state === "running");
  }

  async create(templateID: string, template: FakeTemplate, body: any): Promise<FakeSandbox> {
    const root = join(this.dataDir, `vm-${randomBytes(6).toString("hex")}`);
    const vm = await Vm.boot(root, template);
    if (template.setup) {
      const root = vm.user("root")!;
      const proc = vm.exec({ cmd: "/bin/bash", args: ["-c", template.setup], envs: {}, user: root, cwd: "/", stdin: false, timeoutMs: 120_000 });
      let output = "";
      proc.on("data", (d: { stdout?: Buffer; stderr?: Buffer }) => (output += (d.stdout ?? d.stderr ?? "").toString()));
      const end = proc.end ?? (await new Promise<NonNullable<typeof proc.end>>((r) => proc.once("end", r)));
      if (end.exitCode !== 0) {
        await vm.destroy();
        throw new Error(`template '${templateID}' setup failed (${end.status}): ${output.slice(-2000)}`);
      }
    }
    const network = body.network && typeof body.network === "object" ? body.network : undefined;
    const sbx = new FakeSandbox(
      templateID,
      body.metadata ?? {},
      body.envVars ?? {},
      body.autoPause === true,
      network?.allowPublicTraffic === false ? randomBytes(16).toString("hex") : null,
      network,
      vm,
      Number(body.timeout ?? 300),
      (s) => void this.expire(s),
    );
    this.sandboxes.set(sbx.id, sbx);
    return sbx;
  }

  /** The sandbox's timeout ran out: pause it when created with `autoPause`, else kill it. */
  async expire(sbx: FakeSandbox): Promise<void> {
    if (sbx.state !== "running") return;
    if (sbx.autoPause) sbx.pause();
    else await this.kill(sbx);
  }

  async kill(sbx: FakeSandbox): Promise<void> {
    await sbx.kill();
  }

  createdBody(sbx: FakeSandbox): Record<string, unknown> {
    return {
      sandboxID: sbx.id,
      templateID: sbx.templateID,
      clientID: "fake",
      envdVersion: this.envdVersion,
      envdAccessToken: sbx.envdAccessToken,
      trafficAccessToken: sbx.trafficAccessToken,
      domain: this.domain,
    };
  }
}
