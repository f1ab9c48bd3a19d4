/**
 * @module chaos — what the adversarial scenarios share: how many rounds to run (a few under `npm test`, many
 * under `npm run chaos`), the counts each scenario reports, a subscriber that survives server restarts, and
 * the check that what subscribers saw is exactly the stored log.
 */
import { appendFileSync } from "node:fs";
import type { AirlockEvent } from "@airlock/protocol";
import { afterAll, beforeAll } from "vitest";
import { SseReader, type TestServer, removeDir, startServer } from "../harness.ts";

/** `npm run chaos` sets CHAOS_LONG=1: the long loops. */
export const long = process.env.CHAOS_LONG === "1";

/** How long one scenario may take: a few minutes quick, an hour long. */
export const timeoutMs = long ? 3_600_000 : 180_000;

/** Rounds of a loop: `quick` under `npm test`, `full` under `npm run chaos` (or CHAOS_ROUNDS). */
export function rounds(quick: number, full: number): number {
  const forced = Number(process.env.CHAOS_ROUNDS);
  if (Number.isInteger(forced) && forced > 0) return forced;
  return long ? full : quick;
}

/** A server for a file's scenarios: started before them; stopped after, its sessions deleted, its folder gone. */
export function serverForFile(env: Record<string, string> = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startServer(env);
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });
  return () => server!;
}

/** Counts of one scenario, written where `npm run chaos` gathers them for RELIABILITY.md. */
export function report(scenario: string, counts: Record<string, number>): void {
  const file = process.env.CHAOS_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ scenario, counts, at: new Date().toISOString() })}\n`);
}

/**
 * An SSE subscriber that comes back after the server does, from the last event it has (Last-Event-ID), so
 * across any number of restarts it should hold the log exactly once, in order.
 */
export class DurableSubscriber {
  /** What earlier connections received. */
  private earlier: AirlockEvent[] = [];
  private reader: SseReader;

  constructor(private readonly url: () => string) {
    this.reader = new SseReader(url());
  }

  get events(): AirlockEvent[] {
    return [...this.earlier, ...this.reader.events];
  }

  /** After a restart: carry on from the last event held (the reader checks order and gaps from there). */
  reconnect(): void {
    this.reader.close();
    this.earlier.push(...this.reader.events);
    this.reader = new SseReader(this.url(), this.earlier.at(-1)?.seq ?? 0);
  }

  async waitFor(predicate: (events: AirlockEvent[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (this.reader.error) throw this.reader.error;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; have ${this.events.length} events`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    this.reader.close();
  }
}

/** The whole stored log of a session, through the JSON pages. */
export async function storedLog(server: TestServer, id: string): Promise<AirlockEvent[]> {
  const out: AirlockEvent[] = [];
  for (;;) {
    const page = await server.api("GET", `/v1/sessions/${id}/events?after=${out.at(-1)?.seq ?? 0}&limit=1000`);
    if (page.status !== 200) throw new Error(`events page: ${page.status} ${JSON.stringify(page.body)}`);
    out.push(...page.body.events);
    if (page.body.events.length < 1000) return out;
  }
}

/** How `seen` differs from the stored log: events missing, repeated, out of order, or changed. */
export function compareWithLog(seen: AirlockEvent[], log: AirlockEvent[]): { lost: number; duplicated: number; reordered: number; changed: number } {
  const bySeq = new Map(log.map((e) => [e.seq, JSON.stringify(e)]));
  const counts = new Map<number, number>();
  let reordered = 0;
  let changed = 0;
  seen.forEach((e, i) => {
    counts.set(e.seq, (counts.get(e.seq) ?? 0) + 1);
    if (i > 0 && e.seq <= seen[i - 1].seq) reordered++;
    const stored = bySeq.get(e.seq);
    if (stored !== undefined && stored !== JSON.stringify(e)) changed++;
  });
  const duplicated = [...counts.values()].reduce((n, c) => n + c - 1, 0);
  const lost = log.filter((e) => !counts.has(e.seq)).length;
  return { lost, duplicated, reordered, changed };
}
