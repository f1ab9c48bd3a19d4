/**
 * @module retention/sweeper — removes what an operator chose not to keep, in small steps in the background:
 * the kept sandboxes of sessions that stopped running longer ago than AIRLOCK_SANDBOX_RETENTION_HOURS, whole
 * sessions ended longer ago than AIRLOCK_RETENTION_DAYS, and the rows of every purged session (`DELETE …?purge=true`
 * hides a session at once and leaves its rows to the sweeper).
 *
 * Both settings default to off: nothing is removed unless asked. The work goes a few sessions and 500 rows at a
 * time, each step a short transaction of its own, yielding between steps, so commits of live sessions never wait
 * behind it. Every node may run a sweeper: the store's steps are idempotent and skip sessions another is on.
 */
import type { SessionRecord, StoreV1 } from "@airlock/protocol";
import type { Logger } from "../log.ts";

export interface RetentionPolicy {
  /** Days after a session ended before it is purged; null keeps every session. */
  retentionDays: number | null;
  /** Hours a session that stopped running keeps its sandbox; null keeps them until DELETE. */
  sandboxRetentionHours: number | null;
}

/** Rows removed per step (one short transaction). */
export const rowsPerStep = 500;
/** Sessions looked at per query. */
export const sessionsPerRound = 5;

/** Pure: the end times before which sessions lose their sandbox, or everything; null where the policy is off. */
export function cutoffs(policy: RetentionPolicy, now: number): { sandboxesBefore: number | null; sessionsBefore: number | null } {
  return {
    sandboxesBefore: policy.sandboxRetentionHours === null ? null : now - policy.sandboxRetentionHours * 3_600_000,
    sessionsBefore: policy.retentionDays === null ? null : now - policy.retentionDays * 86_400_000,
  };
}

export interface SweeperDeps {
  store: StoreV1;
  policy: RetentionPolicy;
  intervalMs: number;
  /** Destroys a session's kept sandbox and records that it is gone (the driver's stop); the log stays. */
  removeSandbox(session: SessionRecord, reason: string): Promise<void>;
  log: Logger;
}

export interface SweepCounts {
  sandboxesRemoved: number;
  sessionsPurged: number;
  rowsRemoved: number;
}

export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SweepCounts> | null = null;
  private again = false;
  private stopped = false;
  /** Sessions whose clean-up failed: skipped (and logged once) until the next start. */
  private readonly failed = new Set<string>();

  constructor(private readonly deps: SweeperDeps) {}

  /** Sweeps at once (what a previous run left half done) and then every interval. */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.deps.intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops after the step in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  /** A sweep now (after a purge), or right after the one in progress. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.sweep()
      .catch((err) => {
        this.deps.log.warn({ err }, "retention sweep failed; it runs again at the next interval");
        return { sandboxesRemoved: 0, sessionsPurged: 0, rowsRemoved: 0 };
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** One sweep; resolves with what it removed. Never runs twice at once (use `kick` from outside). */
  async sweep(): Promise<SweepCounts> {
    const { store, policy, log } = this.deps;
    const counts: SweepCounts = { sandboxesRemoved: 0, sessionsPurged: 0, rowsRemoved: 0 };
    const { sandboxesBefore, sessionsBefore } = cutoffs(policy, Date.now());
    if (sandboxesBefore !== null) {
      const reason = `the sandbox was kept ${policy.sandboxRetentionHours} h after the session stopped running (AIRLOCK_SANDBOX_RETENTION_HOURS)`;
      for await (const s of this.ended(sandboxesBefore, true)) {
        if (await this.attempt(s.id, () => this.deps.removeSandbox(s, reason))) counts.sandboxesRemoved++;
      }
    }
    if (sessionsBefore !== null) {
      const reason = `the session ended more than ${policy.retentionDays} days ago (AIRLOCK_RETENTION_DAYS)`;
      for await (const s of this.ended(sessionsBefore, false)) {
        const purged = await this.attempt(s.id, async () => {
          if (s.sandbox) await this.deps.removeSandbox(s, reason);
          await store.requestPurge(s.id);
        });
        if (purged) counts.sessionsPurged++;
      }
    }
    while (!this.stopped) {
      const step = await store.purgeStep(rowsPerStep);
      counts.rowsRemoved += step.removedRows;
      if (!step.more) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (counts.sandboxesRemoved || counts.sessionsPurged || counts.rowsRemoved) log.info(counts, "retention sweep");
    return counts;
  }

  /**
   * Sessions ended before `before`, a few at a time, leaving out those whose clean-up failed. One that comes
   * back after its clean-up went through counts as failed too, so a sweep always ends.
   */
  private async *ended(before: number, sandboxKept: boolean): AsyncGenerator<SessionRecord> {
    const seen = new Set<string>();
    while (!this.stopped) {
      const page = await this.deps.store.listEndedSessions({ endedBefore: before, sandboxKept, limit: sessionsPerRound + this.failed.size });
      const todo = page.filter((s) => !this.failed.has(s.id)).slice(0, sessionsPerRound);
      if (todo.length === 0) return;
      for (const s of todo) {
        if (seen.has(s.id)) {
          this.failed.add(s.id);
          this.deps.log.warn({ session: s.id }, "retention: this session is still listed after its clean-up; it is skipped until the next start");
          continue;
        }
        seen.add(s.id);
        yield s;
      }
    }
  }

  private async attempt(sessionId: string, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (err) {
      this.failed.add(sessionId);
      this.deps.log.warn({ err, session: sessionId }, "retention: could not clean up this session; it is skipped until the next start");
      return false;
    }
  }
}
