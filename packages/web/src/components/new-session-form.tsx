/**
 * Starts a session: a task (optional: it becomes the first prompt and the session's title), the agent, and
 * the options of `POST /v1/sessions` — provider, permission mode, model, budget, network, workspace.
 */
import { useEffect, useState } from "react";
import type { AgentView, CreateSession, HealthView, PermissionMode } from "@airlock/client";
import { client } from "../api/client.ts";
import { navigate } from "../api/router.ts";
import { refreshSessions } from "../api/use-sessions.ts";
import { headline } from "../state/format.ts";
import { AgentPicker } from "./agent-picker.tsx";
import { ArrowUpIcon } from "./icons.tsx";
import { type Source, WorkspaceSource } from "./workspace-source.tsx";

const modes: Array<{ value: PermissionMode; label: string; hint: string }> = [
  { value: "ask", label: "Ask", hint: "Asks before it edits files or runs commands" },
  { value: "acceptEdits", label: "Accept edits", hint: "Edits freely, asks before running commands" },
  { value: "auto", label: "Auto", hint: "Never asks" },
];

export function NewSessionForm() {
  const [agents, setAgents] = useState<AgentView[] | null>(null);
  const [health, setHealth] = useState<HealthView | null>(null);
  const [task, setTask] = useState("");
  const [agent, setAgent] = useState("");
  const [provider, setProvider] = useState("");
  const [mode, setMode] = useState<PermissionMode>("ask");
  const [model, setModel] = useState("");
  const [budget, setBudget] = useState("");
  const [network, setNetwork] = useState(false);
  const [review, setReview] = useState(false);
  const [command, setCommand] = useState("");
  const [source, setSource] = useState<Source>({ kind: "empty", files: {}, git: "" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    client.agents().then(
      (list) => {
        setAgents(list);
        setAgent((a) => a || list.find((x) => x.available)?.name || "");
      },
      (err: Error) => {
        setAgents([]);
        setError(`Cannot list agents: ${err.message}`);
      },
    );
    client.health().then(
      (h) => {
        setHealth(h);
        setProvider((p) => p || h.defaultProvider || h.providers?.[0] || "");
      },
      () => {},
    );
  }, []);

  const selected = agents?.find((a) => a.name === agent);
  const budgetValue = budget.trim() === "" ? undefined : Number(budget);
  const budgetBad = budgetValue !== undefined && !(budgetValue > 0);
  const ready = Boolean(selected?.available) && !busy && !budgetBad && (source.kind !== "git" || source.git.trim() !== "") && (agent !== "custom" || command.trim() !== "");

  const submit = async () => {
    if (!ready) return;
    setBusy(true);
    setError(null);
    try {
      const body: CreateSession = { agent, permissionMode: mode };
      if (provider) body.provider = provider;
      if (model.trim()) body.model = model.trim();
      if (budgetValue !== undefined) body.budgetUsd = budgetValue;
      if (network || source.kind === "git") body.network = true;
      if (review && selected?.review) body.review = true;
      if (source.kind === "upload" && Object.keys(source.files).length) body.workspace = { files: source.files };
      if (source.kind === "git") body.workspace = { git: source.git.trim() };
      if (agent === "custom") body.command = command.trim().split(/\s+/).filter(Boolean);
      const text = task.trim();
      if (text) body.metadata = { title: headline(text, 80) };
      const session = await client.sessions.create(body);
      // The first prompt waits in the session's queue while the sandbox starts.
      if (text) await client.sessions.prompt(session.id, text);
      void refreshSessions();
      navigate(`/sessions/${session.id}`);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <form
      className="new-session-form card"
      aria-label="New session"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="task-box">
        <label htmlFor="task" className="sr-only">
          Task
        </label>
        <textarea
          id="task"
          value={task}
          rows={3}
          placeholder="Describe a task — or leave it empty and prompt once the session is up"
          onChange={(e) => setTask(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) {
              e.preventDefault();
              void submit();
            }
          }}
        />
      </div>

      <fieldset className="form-section">
        <legend>Agent</legend>
        <AgentPicker agents={agents} value={agent} onChange={setAgent} />
        {agent === "custom" && (
          <label className="field">
            <span className="field-label">Command</span>
            <input value={command} onChange={(e) => setCommand(e.target.value)} placeholder="node my-agent.js --acp" required />
            <span className="field-hint">The agent's argv, run in the workspace; it must speak ACP over stdio.</span>
          </label>
        )}
      </fieldset>

      <div className="form-pair">
        <fieldset className="form-section">
          <legend>Permissions</legend>
          <div className="segmented" role="radiogroup" aria-label="Permission mode">
            {modes.map((m) => (
              <label key={m.value} className={mode === m.value ? "selected" : ""} title={m.hint}>
                <input type="radio" name="mode" className="sr-only" checked={mode === m.value} onChange={() => setMode(m.value)} />
                {m.label}
              </label>
            ))}
          </div>
          <span className="field-hint">{modes.find((m) => m.value === mode)!.hint}.</span>
        </fieldset>

        <fieldset className="form-section">
          <legend>Workspace</legend>
          <WorkspaceSource value={source} onChange={setSource} />
          <label className="check-field">
            <input type="checkbox" checked={network || source.kind === "git"} disabled={source.kind === "git"} onChange={(e) => setNetwork(e.target.checked)} />
            Allow network access from the sandbox
          </label>
          {selected?.review && (
            <label className="check-field">
              <input type="checkbox" checked={review} onChange={(e) => setReview(e.target.checked)} />
              Review its own changes after each turn (a second model checks the diff; findings start a fix pass)
            </label>
          )}
        </fieldset>

      </div>

      <div className="form-grid">
        <label className="field">
          <span className="field-label">Provider</span>
          <select value={provider} onChange={(e) => setProvider(e.target.value)} disabled={!health?.providers?.length}>
            {(health?.providers ?? [provider || "local"]).map((p) => (
              <option key={p} value={p}>
                {p === "local" ? "Local (bubblewrap)" : p === "e2b" ? "E2B cloud sandbox" : p}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Model</span>
          <input value={model} onChange={(e) => setModel(e.target.value)} placeholder="Agent default" />
        </label>
        <label className="field">
          <span className="field-label">Budget (USD)</span>
          <input value={budget} onChange={(e) => setBudget(e.target.value)} inputMode="decimal" placeholder="No limit" aria-invalid={budgetBad} />
          {budgetBad && <span className="field-hint error">A positive amount, like 5 or 0.50.</span>}
        </label>
      </div>

      {error && (
        <div className="inline-error" role="alert">
          {error}
        </div>
      )}
      <div className="form-foot">
        <span className="field-hint">{task.trim() ? "The task is sent as the first prompt." : "No task: the session starts idle."}</span>
        <button className="btn primary big" disabled={!ready}>
          {busy ? <span className="spinner" aria-hidden /> : <ArrowUpIcon size={15} strokeWidth={2.2} />}
          {busy ? "Starting…" : "Start session"}
        </button>
      </div>
    </form>
  );
}
