/** The new-session form: agent (with why one is unavailable), permission mode, model, budget, workspace. */
import { useEffect, useState } from "react";
import type { AgentView, CreateSession } from "@airlock/protocol";
import { client } from "../api/client.ts";
import { navigate } from "../api/router.ts";

type Source = "empty" | "upload" | "git";

export function NewSession() {
  const [agents, setAgents] = useState<AgentView[]>([]);
  const [agent, setAgent] = useState("");
  const [mode, setMode] = useState<"ask" | "acceptEdits" | "auto">("ask");
  const [model, setModel] = useState("");
  const [budget, setBudget] = useState("");
  const [source, setSource] = useState<Source>("empty");
  const [files, setFiles] = useState<Record<string, string>>({});
  const [git, setGit] = useState("");
  const [command, setCommand] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    client.agents().then((list) => {
      setAgents(list);
      setAgent((a) => a || list.find((x) => x.available)?.name || "");
    }, (err) => setError(err.message));
  }, []);
  const selected = agents.find((a) => a.name === agent);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const body: CreateSession = { agent, permissionMode: mode };
      if (model.trim()) body.model = model.trim();
      if (budget.trim()) body.budgetUsd = Number(budget);
      if (source === "upload" && Object.keys(files).length) body.workspace = { files };
      if (source === "git" && git.trim()) body.workspace = { git: git.trim() };
      if (agent === "custom") body.command = command.trim().split(/\s+/).filter(Boolean);
      const session = await client.createSession(body);
      navigate(`/sessions/${session.id}`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="home">
      <div className="hero">
        <h1>Start a session</h1>
        <p className="muted">An agent runs in its own sandbox. Watch it work live, answer its questions, and pick up from any device — nothing is lost.</p>
      </div>
      <form
        className="form card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <fieldset>
          <legend>Agent</legend>
          <div className="agent-grid" role="radiogroup" aria-label="Agent">
            {agents.map((a) => (
              <label key={a.name} className={`agent-option${a.available ? "" : " disabled"}${agent === a.name ? " selected" : ""}`}>
                <input type="radio" name="agent" value={a.name} checked={agent === a.name} disabled={!a.available} onChange={() => setAgent(a.name)} />
                <span className="agent-name">{a.title}</span>
                <span className="muted small">{a.available ? a.description : `${a.reason}. ${a.fix ?? ""}`}</span>
              </label>
            ))}
          </div>
        </fieldset>
        {agent === "custom" && (
          <label className="field">
            <span>Command (the agent's argv, run in the workspace)</span>
            <input value={command} onChange={(e) => setCommand(e.target.value)} placeholder="node my-agent.js" required />
          </label>
        )}
        <div className="field-row">
          <label className="field">
            <span>Permissions</span>
            <select value={mode} onChange={(e) => setMode(e.target.value as typeof mode)}>
              <option value="ask">Ask before writing or running</option>
              <option value="acceptEdits">Accept edits, ask for commands</option>
              <option value="auto">Never ask</option>
            </select>
          </label>
          <label className="field">
            <span>Model (optional)</span>
            <input value={model} onChange={(e) => setModel(e.target.value)} placeholder="agent default" />
          </label>
          <label className="field">
            <span>Budget in USD (optional)</span>
            <input value={budget} onChange={(e) => setBudget(e.target.value)} inputMode="decimal" placeholder="no limit" pattern="[0-9]*\.?[0-9]*" />
          </label>
        </div>
        <fieldset>
          <legend>Workspace</legend>
          <div className="segmented" role="radiogroup" aria-label="Workspace source">
            {(["empty", "upload", "git"] as Source[]).map((s) => (
              <label key={s} className={source === s ? "selected" : ""}>
                <input type="radio" name="source" checked={source === s} onChange={() => setSource(s)} />
                {s === "empty" ? "Empty" : s === "upload" ? "Upload files" : "Git URL"}
              </label>
            ))}
          </div>
          {source === "upload" && (
            <label className="field">
              <span>Files ({Object.keys(files).length} chosen)</span>
              <input
                type="file"
                multiple
                onChange={async (e) => {
                  const out: Record<string, string> = {};
                  for (const f of Array.from(e.target.files ?? [])) out[(f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name] = await f.text();
                  setFiles(out);
                }}
              />
            </label>
          )}
          {source === "git" && (
            <label className="field">
              <span>Repository URL (needs a sandbox with network)</span>
              <input value={git} onChange={(e) => setGit(e.target.value)} placeholder="https://github.com/owner/repo.git" type="url" />
            </label>
          )}
        </fieldset>
        {error && <div className="form-error" role="alert">{error}</div>}
        <button className="btn primary big" disabled={busy || !selected?.available}>
          {busy ? "Starting…" : "Start session"}
        </button>
      </form>
    </div>
  );
}
