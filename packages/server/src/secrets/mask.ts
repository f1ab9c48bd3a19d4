/**
 * @module mask — replaces secret values in what is stored of a session (events, prompts, failure reasons) by `***`,
 * as CI systems do with their logs. Pure: the driver holds one `Masker` per running agent and passes every commit
 * batch through it.
 *
 * Text that streams (an agent's message and thought chunks, a terminal's output) is cut wherever the agent's
 * writes fell — an LLM writes a value token by token — so a value may arrive split across events and across the
 * batches the control plane reads. Two things keep it whole:
 * - within one batch, the chunks of a stream are masked as one text (each event keeps its own part; the part of
 *   a value in a later chunk becomes empty);
 * - `holdBack` tells the driver to leave a batch's trailing chunk records for the next batch when the stream's
 *   text ends with the beginning of a value: nothing of them is stored (nor is the journal offset moved past
 *   them, so a crash loses nothing), and they are masked together with what follows. They wait at most
 *   `holdMs`; a value split by a longer pause is masked only from where it resumes (the limit the README names).
 */
import type { CommitBatch, JournalRecord, NewEvent } from "@airlock/protocol";

export const maskText = "***";
/** How long trailing records that may begin a value wait for the rest before they are stored as they are. */
export const holdMs = 1000;
/** Never hold more records than this (a value written a character at a time is still covered: ~32 KiB). */
const maxHeld = 4096;

export class Masker {
  private readonly values: string[];
  private readonly longest: number;
  /** Per stream, the unmasked tail of what was already stored (enough to complete a value split there). */
  private readonly carry = new Map<string, string>();

  constructor(values: Iterable<string>) {
    this.values = [...new Set(values)].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
    this.longest = this.values[0]?.length ?? 0;
  }

  get active(): boolean {
    return this.values.length > 0;
  }

  /** A string with every value replaced. */
  text(s: string): string {
    if (!this.active || s.length === 0) return s;
    for (const v of this.values) if (s.includes(v)) s = s.split(v).join(maskText);
    return s;
  }

  /** Every string inside a JSON-like value, masked. */
  deep<T>(value: T): T {
    if (typeof value === "string") return this.text(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.deep(v)) as T;
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.deep(v)])) as T;
    return value;
  }

  /** A commit batch with its events, failure reasons and interaction requests masked. */
  batch(batch: CommitBatch): CommitBatch {
    if (!this.active) return batch;
    const out: CommitBatch = { ...batch, events: this.events(batch.events) };
    if (batch.session?.statusReason) out.session = { ...batch.session, statusReason: this.text(batch.session.statusReason) };
    if (batch.turns) {
      out.turns = {
        ...batch.turns,
        ...(batch.turns.insert ? { insert: batch.turns.insert.map((t) => ({ ...t, prompt: this.deep(t.prompt) })) } : {}),
        ...(batch.turns.update ? { update: batch.turns.update.map((u) => (u.patch.error ? { ...u, patch: { ...u.patch, error: this.text(u.patch.error) } } : u)) } : {}),
      };
    }
    if (batch.interactions?.insert) out.interactions = { ...batch.interactions, insert: batch.interactions.insert.map((i) => ({ ...i, request: this.deep(i.request) })) };
    return out;
  }

  /** Events in order: streamed text masked across chunks (see the module comment), the rest string by string. */
  events(events: NewEvent[]): NewEvent[] {
    if (!this.active) return events;
    const out = events.map((e) => (streamOf(e) ? e : ({ ...e, data: this.deep(e.data) } as NewEvent)));
    const streams = new Map<string, number[]>();
    events.forEach((e, i) => {
      const s = streamOf(e);
      if (s) streams.set(s.key, [...(streams.get(s.key) ?? []), i]);
    });
    for (const [key, indexes] of streams) {
      const texts = indexes.map((i) => streamOf(events[i])!.text);
      const masked = this.stream(key, texts);
      indexes.forEach((i, j) => (out[i] = withStreamText(events[i], masked[j])));
    }
    return out;
  }

  /** The pieces of one stream, masked as one text after the stream's stored tail. */
  private stream(key: string, pieces: string[]): string[] {
    const carry = this.carry.get(key) ?? "";
    const whole = carry + pieces.join("");
    if (this.longest > 1) this.carry.set(key, whole.slice(-(this.longest - 1)));
    const spans = this.spans(whole);
    if (spans.length === 0) return pieces;
    const out: string[] = [];
    let at = carry.length;
    for (const piece of pieces) {
      const start = at;
      const end = at + piece.length;
      at = end;
      let text = "";
      let cursor = start;
      for (const [a, b] of spans) {
        if (b <= start || a >= end) continue;
        text += whole.slice(cursor, Math.max(a, start));
        // The mark goes where the value first shows in what is being stored now; later parts vanish.
        if (Math.max(a, carry.length) >= start) text += maskText;
        cursor = Math.min(b, end);
      }
      out.push(text + whole.slice(cursor, end));
    }
    return out;
  }

  /**
   * How many of `records`' trailing records to leave for the next batch: those from where the text of a stream
   * begins to spell a value (a proper prefix of one) to the end. 0 when nothing looks like a value's beginning,
   * or when anything but streamed text ends the batch (the stream moved on).
   */
  holdBack(records: JournalRecord[]): number {
    if (!this.active) return 0;
    let start = records.length;
    while (start > 0 && records.length - start < maxHeld && textRecord(records[start - 1])) start--;
    if (start === records.length) return 0;
    const run = records.slice(start).map((r) => textRecord(r)!);
    let holdFrom = run.length;
    for (const key of new Set(run.map((r) => r.key))) {
      const mine = run.map((r, i) => ({ ...r, i })).filter((r) => r.key === key);
      const carry = this.carry.get(key) ?? "";
      const text = carry + mine.map((r) => r.text).join("");
      const open = this.openPrefix(text);
      if (open === 0) continue;
      // The record holding the prefix's first character (or the stream's first in this run, if it began earlier).
      let at = carry.length;
      let first = mine[0].i;
      for (const r of mine) {
        if (at + r.text.length > text.length - open) {
          first = r.i;
          break;
        }
        at += r.text.length;
      }
      holdFrom = Math.min(holdFrom, first);
    }
    return run.length - holdFrom;
  }

  /** The length of the longest end of `text` that is a proper beginning of a value. */
  private openPrefix(text: string): number {
    let longest = 0;
    for (const v of this.values) {
      // Candidates start where the value's first character does, within its length of the end; the earliest
      // that fits is the longest.
      for (let p = text.indexOf(v[0], Math.max(0, text.length - v.length + 1)); p >= 0; p = text.indexOf(v[0], p + 1)) {
        if (v.startsWith(text.slice(p))) {
          longest = Math.max(longest, text.length - p);
          break;
        }
      }
    }
    return longest;
  }

  /** Where values occur in `s`: sorted, overlapping ones merged. */
  private spans(s: string): Array<[number, number]> {
    const found: Array<[number, number]> = [];
    for (const v of this.values) for (let i = s.indexOf(v); i >= 0; i = s.indexOf(v, i + 1)) found.push([i, i + v.length]);
    found.sort((x, y) => x[0] - y[0]);
    const merged: Array<[number, number]> = [];
    for (const f of found) {
      const last = merged.at(-1);
      if (last && f[0] <= last[1]) last[1] = Math.max(last[1], f[1]);
      else merged.push([...f]);
    }
    return merged;
  }
}

/** Streamed text: message and thought chunks (per kind), terminal output (per terminal). */
function streamOf(e: NewEvent): { key: string; text: string } | null {
  const d = e.data as Record<string, any> | null;
  if (!d || typeof d !== "object") return null;
  if (e.type === "terminal.output" && typeof d.data === "string") return { key: `terminal:${d.terminalId}`, text: d.data };
  if (e.type === "update" && typeof d.sessionUpdate === "string" && d.sessionUpdate.endsWith("_chunk") && d.content?.type === "text" && typeof d.content.text === "string") {
    return { key: d.sessionUpdate, text: d.content.text };
  }
  return null;
}

/** The streamed text a journal record carries, under the same stream key as its event (see `streamOf`). */
function textRecord(r: JournalRecord): { key: string; text: string } | null {
  if (r.kind === "terminal") return r.stream === "output" && typeof r.data === "string" ? { key: `terminal:${r.terminalId}`, text: r.data } : null;
  if (r.kind !== "agent") return null;
  const msg = r.msg as { method?: string; id?: unknown; params?: { update?: Record<string, any> } };
  const u = msg.method === "session/update" && msg.id === undefined ? msg.params?.update : undefined;
  if (u && typeof u.sessionUpdate === "string" && u.sessionUpdate.endsWith("_chunk") && u.content?.type === "text" && typeof u.content.text === "string") {
    return { key: u.sessionUpdate, text: u.content.text };
  }
  return null;
}

function withStreamText(e: NewEvent, text: string): NewEvent {
  const d = e.data as Record<string, any>;
  return (e.type === "terminal.output" ? { ...e, data: { ...d, data: text } } : { ...e, data: { ...d, content: { ...d.content, text } } }) as NewEvent;
}
