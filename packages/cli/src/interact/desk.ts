/**
 * @module desk — where a session's pending interactions go while the CLI follows it: the `--approve` policy
 * first, then a prompt on the terminal (one at a time), else a note saying how to answer from elsewhere. An
 * interaction answered elsewhere meanwhile (`interaction.resolved` in the log) takes its prompt away.
 */
import { AirlockApiError, type AirlockEvent, type AnswerInput, type InteractionRequest, type Session } from "@airlock/client";
import { describeRequest } from "../render/human.ts";
import { type Approve, autoAnswer } from "./policy.ts";
import type { TtyPrompter } from "./tty-prompt.ts";

export interface DeskOptions {
  session: Session;
  approve: Approve;
  /** Inline prompts, on a terminal; absent, interactions wait for an answer given elsewhere. */
  prompter?: TtyPrompter;
  note(text: string): void;
  warn(text: string): void;
}

export class InteractionDesk {
  private readonly waiting = new Map<string, InteractionRequest>();
  private readonly queue: string[] = [];
  private current: { id: string; abort: AbortController } | null = null;
  private live = false;
  private closed = false;

  constructor(private readonly options: DeskOptions) {}

  /** An `interaction.requested` event (live, or still pending in a replay). */
  requested(event: Extract<AirlockEvent, { type: "interaction.requested" }>): void {
    this.waiting.set(event.data.interactionId, event.data);
    this.queue.push(event.data.interactionId);
    if (this.live) this.next();
  }

  /** An `interaction.resolved` event: whoever answered, it no longer waits. */
  resolved(interactionId: string): void {
    this.waiting.delete(interactionId);
    if (this.current?.id === interactionId) this.current.abort.abort();
  }

  /** The replay reached the live log: from now on interactions are handled as they come. */
  goLive(): void {
    if (this.live) return;
    this.live = true;
    this.next();
  }

  close(): void {
    this.closed = true;
    this.current?.abort.abort();
  }

  private next(): void {
    while (!this.current && !this.closed && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const request = this.waiting.get(id);
      if (!request) continue;
      const auto = autoAnswer(request, this.options.approve);
      if (auto !== undefined) {
        void this.send(id, auto);
        continue;
      }
      if (!this.options.prompter) {
        const hint = request.kind === "permission" ? (request.options?.[0]?.optionId ?? "OPTION") : "ANSWER";
        this.options.note(
          `waiting for an answer to ${describeRequest(request)}\n  answer it in the web UI, or: airlock answer ${this.options.session.id} ${id} ${hint}`,
        );
        continue;
      }
      const abort = new AbortController();
      this.current = { id, abort };
      void this.ask(id, request, abort.signal).finally(() => {
        this.current = null;
        this.next();
      });
    }
  }

  private async ask(id: string, request: InteractionRequest, signal: AbortSignal): Promise<void> {
    const prompter = this.options.prompter!;
    let answer: AnswerInput | undefined;
    if (request.kind === "permission") {
      const options = request.options ?? [];
      answer = await prompter.choose(request.toolCall?.title ?? "Allow the tool call?", options.map((o) => ({ label: o.name, value: o.optionId })), signal);
    } else {
      answer = await this.form(request, signal);
    }
    if (signal.aborted) return;
    if (answer === undefined) {
      this.options.note(`left for later: airlock answer ${this.options.session.id} ${id} …`);
      return;
    }
    await this.send(id, answer);
  }

  /** A question: each field of its form in turn (choices for enums and booleans), or one line of text. */
  private async form(request: InteractionRequest, signal: AbortSignal): Promise<AnswerInput | undefined> {
    const prompter = this.options.prompter!;
    const schema = request.schema as { properties?: Record<string, { title?: string; type?: string; enum?: string[] }> } | undefined;
    const fields = Object.entries(schema?.properties ?? {});
    if (request.prompt) this.options.note(`? ${request.prompt}`);
    if (fields.length === 0) {
      const text = await prompter.text(request.prompt ?? "Your answer:", signal);
      return text === undefined ? undefined : { answer: text };
    }
    const answer: Record<string, unknown> = {};
    for (const [name, field] of fields) {
      const title = field.title ?? name;
      let value: unknown;
      if (field.enum) value = await prompter.choose(title, field.enum.map((v) => ({ label: v, value: v })), signal);
      else if (field.type === "boolean") value = await prompter.choose(title, [{ label: "yes", value: true }, { label: "no", value: false }], signal);
      else {
        const text = await prompter.text(`${title}:`, signal);
        value = text === undefined ? undefined : field.type === "number" || field.type === "integer" ? Number(text) : text;
      }
      if (value === undefined) return undefined;
      answer[name] = value;
    }
    return { answer };
  }

  private async send(id: string, answer: AnswerInput): Promise<void> {
    try {
      await this.options.session.answer(id, answer);
    } catch (err) {
      if (AirlockApiError.is(err) && err.status === 409) return; // answered elsewhere first: the log says how
      this.options.warn(`could not answer ${id}: ${(err as Error).message}`);
    }
  }
}
