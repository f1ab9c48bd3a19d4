/**
 * The tenant's secrets: add or replace one (the value is write-only: sent, never shown again), list them by name
 * with when each was last set, delete one (a second click confirms). Sessions use them as `env` values
 * (`{"secret": "NAME"}`); well-known names are the tenant's own LLM credentials.
 */
import { useCallback, useEffect, useState } from "react";
import { AirlockApiError, type SecretView } from "@airlock/client";
import { client } from "../api/client.ts";
import { timeAgo } from "../state/format.ts";
import { showToast } from "../state/toasts.ts";
import { KeyIcon, LogoIcon, MenuIcon, TrashIcon } from "./icons.tsx";

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const credentialNames = ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "OPENAI_API_KEY", "GEMINI_API_KEY"];

export function SecretsPage({ onOpenMenu }: { onOpenMenu(): void }) {
  const [secrets, setSecrets] = useState<SecretView[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setSecrets(await client.secrets.list());
      setLoadError(null);
    } catch (err) {
      setLoadError(messageOf(err));
    }
  }, []);
  useEffect(() => {
    document.title = "Secrets · Airlock";
    void reload();
  }, [reload]);

  return (
    <div className="home secrets-page">
      <div className="home-bar">
        <button type="button" className="btn ghost icon-only menu-button" aria-label="Open the sessions menu" onClick={onOpenMenu}>
          <MenuIcon size={18} />
        </button>
        <span className="home-brand">
          <LogoIcon size={20} className="brand-logo" /> Airlock
        </span>
      </div>
      <div className="home-inner">
        <header className="home-hero">
          <h1>Secrets</h1>
          <p>
            Credentials your agents need, encrypted at rest and never shown again once saved. Give one to a session as an <code>env</code> value{" "}
            <code>{'{"secret": "NAME"}'}</code>; values an agent prints are masked in its log. Named <code>ANTHROPIC_API_KEY</code>, <code>CLAUDE_CODE_OAUTH_TOKEN</code>,{" "}
            <code>OPENAI_API_KEY</code> or <code>GEMINI_API_KEY</code>, a secret is this tenant's own LLM key, used instead of the server's.
          </p>
        </header>
        <SecretForm known={secrets?.map((s) => s.name) ?? []} onSaved={reload} />
        <section className="sessions-section" aria-labelledby="secrets-title">
          <h2 id="secrets-title">Stored secrets</h2>
          {loadError && <p className="field-hint error">Cannot list secrets: {loadError}</p>}
          {secrets === null && !loadError && <p className="muted">Loading…</p>}
          {secrets?.length === 0 && <p className="muted secrets-empty">No secrets yet.</p>}
          {secrets && secrets.length > 0 && (
            <div className="sessions-table secrets-table" role="table" aria-label="Secrets">
              <div className="st-row st-head" role="row">
                <span role="columnheader">Name</span>
                <span role="columnheader">Value</span>
                <span role="columnheader">Last set</span>
                <span role="columnheader" className="st-actions">
                  <span className="sr-only">Actions</span>
                </span>
              </div>
              {secrets.map((s) => (
                <SecretRow key={s.name} secret={s} onDeleted={reload} />
              ))}
            </div>
          )}
        </section>
      </div>
    </div>
  );
}

function SecretForm({ known, onSaved }: { known: string[]; onSaved(): Promise<void> }) {
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [error, setError] = useState<{ field: "name" | "value" | null; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const nameProblem = name && !namePattern.test(name) ? "Letters, digits and _ only, not starting with a digit (like an environment variable)." : null;
  const replacing = known.includes(name);
  return (
    <form
      className="secret-form"
      aria-label="Add a secret"
      onSubmit={async (e) => {
        e.preventDefault();
        if (nameProblem || !name || !value) return;
        setBusy(true);
        try {
          await client.secrets.put(name, value);
          showToast({ tone: "ok", title: `${replacing ? "Replaced" : "Saved"} ${name}` });
          setName("");
          setValue("");
          setError(null);
          await onSaved();
        } catch (err) {
          const message = messageOf(err);
          setError({ field: /\bname\b/.test(message) ? "name" : /\bvalue\b/.test(message) ? "value" : null, message });
        } finally {
          setBusy(false);
        }
      }}
    >
      <div className="secret-fields">
        <label className="field">
          <span className="field-label">Name</span>
          <input
            value={name}
            onChange={(e) => setName(e.target.value.trim())}
            placeholder="GITHUB_TOKEN"
            autoComplete="off"
            spellCheck={false}
            list="secret-names"
            aria-invalid={Boolean(nameProblem || error?.field === "name")}
          />
          <datalist id="secret-names">
            {credentialNames.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
          {(nameProblem || error?.field === "name") && <span className="field-hint error">{nameProblem ?? error?.message}</span>}
        </label>
        <label className="field">
          <span className="field-label">Value</span>
          <input
            type="password"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            placeholder={replacing ? "a new value replaces the stored one" : "write-only: never shown after saving"}
            autoComplete="new-password"
            aria-invalid={error?.field === "value"}
          />
          {error?.field === "value" && <span className="field-hint error">{error.message}</span>}
        </label>
        <button className="btn primary secret-save" disabled={busy || !name || !value || Boolean(nameProblem)}>
          <KeyIcon size={15} /> {replacing ? "Replace" : "Save"}
        </button>
      </div>
      {error && error.field === null && <p className="field-hint error">{error.message}</p>}
    </form>
  );
}

function SecretRow({ secret, onDeleted }: { secret: SecretView; onDeleted(): Promise<void> }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!confirming) return;
    const t = setTimeout(() => setConfirming(false), 4000);
    return () => clearTimeout(t);
  }, [confirming]);
  return (
    <div className="st-row" role="row">
      <span role="cell" className="st-title">
        <code>{secret.name}</code>
      </span>
      <span role="cell" className="muted" aria-label="value hidden">
        ••••••••
      </span>
      <span role="cell" className="st-time">
        <time dateTime={secret.updatedAt} title={new Date(secret.updatedAt).toLocaleString()}>
          {timeAgo(secret.updatedAt)}
        </time>
      </span>
      <span role="cell" className="st-actions">
        <button
          type="button"
          className={`btn small ${confirming ? "danger" : "ghost"}`}
          disabled={busy}
          aria-label={confirming ? `Confirm deleting ${secret.name}` : `Delete ${secret.name}`}
          onClick={async () => {
            if (!confirming) return setConfirming(true);
            setBusy(true);
            try {
              await client.secrets.delete(secret.name);
              showToast({ tone: "ok", title: `Deleted ${secret.name}` });
            } catch (err) {
              showToast({ tone: "bad", title: `Could not delete ${secret.name}`, body: messageOf(err) });
            } finally {
              setBusy(false);
              setConfirming(false);
              await onDeleted();
            }
          }}
        >
          <TrashIcon size={14} /> {confirming ? "Confirm" : "Delete"}
        </button>
      </span>
    </div>
  );
}

const messageOf = (err: unknown) => (AirlockApiError.is(err) ? err.message : err instanceof Error ? err.message : String(err));
