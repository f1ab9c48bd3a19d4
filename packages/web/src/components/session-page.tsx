/**
 * One session: header, the live conversation, the composer, and the workspace panel. Pending decisions also
 * raise a toast (and a system notification when the tab is hidden and the user allowed them), and screen
 * readers hear when a turn ends or the agent needs them.
 */
import { useEffect, useRef, useState } from "react";
import { client } from "../api/client.ts";
import { useSession } from "../api/use-session.ts";
import { touchSessions } from "../api/use-sessions.ts";
import { headline } from "../state/format.ts";
import { rememberTitle, sessionTitle } from "../state/session-title.ts";
import { dismissToast, showToast } from "../state/toasts.ts";
import type { View } from "../state/view.ts";
import { Composer, type ComposerHandle } from "./composer.tsx";
import { Conversation } from "./conversation.tsx";
import { AlertIcon } from "./icons.tsx";
import { SessionHeader } from "./session-header.tsx";
import { WorkspacePanel } from "./workspace-panel.tsx";

const panelKey = "airlock.workspacePanel";

export function SessionPage({ id, onOpenMenu }: { id: string; onOpenMenu(): void }) {
  const { view, connection, session, error, caughtUp, outbox, send } = useSession(id);
  const [panel, setPanel] = useState(() => (localStorage.getItem(panelKey) ?? (window.innerWidth >= 1280 ? "open" : "closed")) === "open" && window.innerWidth >= 900);
  const [draft, setDraft] = useState(() => sessionStorage.getItem(`airlock.draft.${id}`) ?? "");
  const composer = useRef<ComposerHandle>(null);

  useEffect(() => {
    if (draft) sessionStorage.setItem(`airlock.draft.${id}`, draft);
    else sessionStorage.removeItem(`airlock.draft.${id}`);
  }, [draft, id]);

  const status = view.status ?? session?.status ?? null;
  const final = Boolean(session?.final) || status === "failed";
  const running = view.runningTurnId !== null;
  const firstPrompt = view.items.find((i) => i.kind === "turn");
  const title = sessionTitle(session, view.title ?? (firstPrompt?.kind === "turn" ? headline(firstPrompt.text, 80) : undefined));
  useEffect(() => {
    if (firstPrompt?.kind === "turn" && firstPrompt.text.trim() && rememberTitle(id, headline(firstPrompt.text, 80))) touchSessions();
  }, [id, firstPrompt]);
  const usage = session?.usage ?? view.usage;
  const needsYou = view.pending.length;
  // The resource's count of queued turns is as old as the resource: turns that started since then are not queued.
  const startedSince = session ? view.items.filter((i) => i.kind === "turn" && i.seq > session.lastSeq).length : 0;
  const queued = Math.max((session?.queuedTurns ?? 0) - startedSince, outbox.filter((p) => p.state === "queued").length, 0);

  useEffect(() => {
    document.title = `${needsYou ? `(${needsYou}) ` : ""}${title} — Airlock`;
  }, [needsYou, title]);

  useDecisionToasts(view, caughtUp);
  const announcement = useAnnouncements(view, caughtUp);

  // Esc anywhere on the page (outside a field that uses it) cancels the running turn.
  useEffect(() => {
    if (!running) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape" || e.defaultPrevented || document.querySelector("[role=dialog]")) return;
      void client.sessions.cancel(id).catch(() => {});
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [running, id]);

  if (error && !session) {
    return (
      <div className="page-error" role="alert">
        <AlertIcon size={20} />
        <h1>This session cannot be opened</h1>
        <p>{error}</p>
        <a className="btn" href="/">
          Back to sessions
        </a>
      </div>
    );
  }

  return (
    <div className={`session-page${panel ? " with-panel" : ""}`}>
      <div className="session-main">
        <SessionHeader
          title={title}
          session={session}
          status={status}
          step={view.step}
          connection={connection}
          usage={usage}
          panelOpen={panel}
          canStop={!final && status !== "stopped" && status !== "stopping"}
          onTogglePanel={() => {
            localStorage.setItem(panelKey, panel ? "closed" : "open");
            setPanel(!panel);
          }}
          onOpenMenu={onOpenMenu}
        />
        {status === "stopped" && session?.final && <div className="banner info">This session is stopped and its sandbox removed. The conversation stays here to read.</div>}
        <Conversation
          view={view}
          sessionId={id}
          agent={session?.agent}
          outbox={outbox}
          caughtUp={caughtUp}
          onSuggest={(text) => {
            setDraft(text);
            composer.current?.focus();
          }}
        />
        <div className="composer-dock">
          <Composer
            ref={composer}
            value={draft}
            onChange={setDraft}
            disabled={final || status === "stopping"}
            disabledReason={status === "stopping" ? "The session is stopping…" : undefined}
            running={running}
            queued={queued}
            onSend={send}
            onCancel={async () => {
              await client.sessions.cancel(id);
            }}
          />
        </div>
        <div className="sr-only" aria-live="polite" aria-atomic="true">
          {announcement}
        </div>
      </div>
      {panel && (
        <WorkspacePanel
          sessionId={id}
          version={view.workspaceVersion}
          available={session ? (session.hasWorkspace ?? !session.final) : true}
          starting={status === "provisioning" || status === null}
          hasServices={Object.keys(view.services).length > 0}
          servicesVersion={Math.max(0, ...Object.values(view.services).map((s) => s.seq))}
          onClose={() => {
            localStorage.setItem(panelKey, "closed");
            setPanel(false);
          }}
        />
      )}
    </div>
  );
}

/** A toast per pending decision, gone when it is resolved (here or anywhere else). */
function useDecisionToasts(view: View, caughtUp: boolean) {
  const shown = useRef(new Set<string>());
  useEffect(() => {
    if (!caughtUp) return;
    for (const iid of view.pending) {
      if (shown.current.has(iid)) continue;
      shown.current.add(iid);
      const key = view.interactionOwner[iid];
      const item = key ? view.items[view.index[key]] : undefined;
      const interaction = item?.kind === "tool" ? item.interaction : item?.kind === "interaction" ? item.interaction : undefined;
      const what = interaction?.kind === "question" ? "The agent has a question" : "The agent asks for permission";
      const detail = interaction?.toolCall?.title ?? (interaction?.prompt ? headline(interaction.prompt, 90) : undefined);
      showToast({
        id: `decision-${iid}`,
        tone: "warn",
        title: what,
        body: detail ?? undefined,
        ttlMs: 0,
        action: {
          label: "Review",
          run: () => {
            const el = document.getElementById(`item-${key}`);
            el?.scrollIntoView({ behavior: "smooth", block: "center" });
            el?.querySelector<HTMLElement>(".option-buttons button, .question-form textarea, .question-form input")?.focus({ preventScroll: true });
          },
        },
      });
      if (document.hidden && "Notification" in window && Notification.permission === "granted") {
        new Notification(what, { body: detail, tag: iid });
      }
    }
    for (const iid of shown.current) {
      if (!view.pending.includes(iid)) {
        dismissToast(`decision-${iid}`);
        shown.current.delete(iid);
      }
    }
  }, [view.pending, caughtUp, view]);
  useEffect(
    () => () => {
      for (const iid of shown.current) dismissToast(`decision-${iid}`);
    },
    [],
  );
}

/** What a screen reader hears: not each token, but that a turn ended (with the start of the answer) or needs you. */
function useAnnouncements(view: View, caughtUp: boolean): string {
  const [text, setText] = useState("");
  const prev = useRef({ running: view.runningTurnId, pending: view.pending.length });
  useEffect(() => {
    const was = prev.current;
    prev.current = { running: view.runningTurnId, pending: view.pending.length };
    if (!caughtUp) return;
    if (view.pending.length > was.pending) setText("The agent needs your decision.");
    else if (was.running && !view.runningTurnId) {
      const last = [...view.items].reverse().find((i) => i.kind === "message");
      setText(`The agent finished.${last?.kind === "message" ? ` ${headline(last.text, 160)}` : ""}`);
    } else if (!was.running && view.runningTurnId) setText("The agent is working.");
  }, [view, caughtUp]);
  return text;
}
