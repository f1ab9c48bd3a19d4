/**
 * @module tty-prompt — small prompts on a terminal: a choice among options (digits, or ↑↓ and Enter) and a line of
 * text. Each can be taken away while shown (the interaction was answered elsewhere) and then leaves no trace on
 * the screen. Ctrl-C while one is shown is passed on (it cancels the turn, as elsewhere in the CLI).
 */
import { emitKeypressEvents } from "node:readline";
import type { Colors } from "../render/colors.ts";

interface Key {
  name?: string;
  ctrl?: boolean;
  sequence?: string;
}

export interface Choice<T> {
  label: string;
  value: T;
}

export class TtyPrompter {
  /** The prompt on the screen now: what it shows, and how to draw it again. */
  private shown: { text: () => string; redraw: () => void } | null = null;

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly output: { write(text: string): unknown },
    private readonly c: Colors,
    private readonly onInterrupt: () => void,
  ) {
    emitKeypressEvents(input);
  }

  /** Resolves with the chosen value, or undefined when left (Esc) or taken away (`signal`). */
  choose<T>(title: string, choices: Array<Choice<T>>, signal: AbortSignal): Promise<T | undefined> {
    let selected = 0;
    const render = () =>
      [
        this.c.yellow(`? ${title}`),
        ...choices.map((ch, i) => (i === selected ? this.c.cyan(`  › ${i + 1}. ${ch.label}`) : `    ${i + 1}. ${ch.label}`)),
        this.c.dim(`  (1-${choices.length}, or ↑↓ and Enter; Esc leaves it to be answered elsewhere)`),
      ].join("\n");
    return this.session(render, signal, (key, done) => {
      if (key.name === "up") selected = (selected + choices.length - 1) % choices.length;
      else if (key.name === "down" || key.name === "tab") selected = (selected + 1) % choices.length;
      else if (key.name === "return" || key.name === "enter") return done(choices[selected].value);
      else if (key.sequence && /^[1-9]$/.test(key.sequence) && Number(key.sequence) <= choices.length) return done(choices[Number(key.sequence) - 1].value);
      return undefined;
    });
  }

  /** Resolves with the typed line, or undefined when left (Esc) or taken away. */
  text(title: string, signal: AbortSignal): Promise<string | undefined> {
    let value = "";
    const render = () => `${this.c.yellow(`? ${title}`)} ${value}`;
    return this.session(render, signal, (key, done) => {
      if (key.name === "return" || key.name === "enter") return done(value);
      if (key.name === "backspace") value = value.slice(0, -1);
      else if (key.sequence && !key.ctrl && key.sequence.length === 1 && key.sequence >= " ") value += key.sequence;
      return undefined;
    });
  }

  /** Writes other output while a prompt may be shown: the prompt is taken off, then drawn again below it. */
  interleave(write: () => void): void {
    const shown = this.shown;
    if (!shown) return write();
    this.erase(shown.text());
    write();
    shown.redraw();
  }

  /** Shows `render()` and feeds keys to `onKey` until it calls `done`, Esc is pressed, or `signal` aborts. */
  private session<T>(render: () => string, signal: AbortSignal, onKey: (key: Key, done: (value: T) => void) => void): Promise<T | undefined> {
    return new Promise((resolve) => {
      let shown = "";
      const draw = () => {
        this.erase(shown);
        shown = render();
        this.output.write(shown);
      };
      this.shown = {
        text: () => shown,
        redraw: () => {
          shown = render();
          this.output.write(shown);
        },
      };
      const finish = (value: T | undefined) => {
        this.shown = null;
        this.input.off("keypress", listener);
        signal.removeEventListener("abort", abort);
        if (this.input.isTTY) this.input.setRawMode(false);
        this.input.pause();
        this.erase(shown);
        resolve(value);
      };
      const abort = () => finish(undefined);
      const listener = (_: string, key: Key = {}) => {
        if (key.ctrl && key.name === "c") return this.onInterrupt();
        if (key.name === "escape") return finish(undefined);
        let finished = false;
        onKey(key, (value) => {
          finished = true;
          finish(value);
        });
        if (!finished) draw();
      };
      if (signal.aborted) return resolve(undefined);
      signal.addEventListener("abort", abort, { once: true });
      if (this.input.isTTY) this.input.setRawMode(true);
      this.input.resume();
      this.input.on("keypress", listener);
      draw();
    });
  }

  /** Removes a drawn prompt: back to its first row, clear to the end of the screen. */
  private erase(shown: string): void {
    if (!shown) return;
    const rows = shown.split("\n").length - 1;
    this.output.write(`\r${rows > 0 ? `\x1b[${rows}A` : ""}\x1b[J`);
  }
}
