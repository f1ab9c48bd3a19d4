/** The start page: a task and an agent to start a session with, then every session in a table. */
import { NewSessionForm } from "./new-session-form.tsx";
import { LogoIcon, MenuIcon } from "./icons.tsx";
import { SessionsTable } from "./sessions-table.tsx";

export function HomePage({ onOpenMenu }: { onOpenMenu(): void }) {
  return (
    <div className="home">
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
          <h1>What should the agent work on?</h1>
          <p>Each session runs a coding agent in its own sandbox. Watch every step live, answer its questions, and come back from any device — nothing is lost.</p>
        </header>
        <NewSessionForm />
        <SessionsTable />
      </div>
    </div>
  );
}
