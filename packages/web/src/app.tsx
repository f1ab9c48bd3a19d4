import { useEffect, useState } from "react";
import { useRoute } from "./api/router.ts";
import { ApiKeyDialog } from "./components/api-key-dialog.tsx";
import { NewSession } from "./components/new-session.tsx";
import { SessionPage } from "./components/session-page.tsx";
import { Sidebar } from "./components/sidebar.tsx";

type Theme = "light" | "dark";

export function App() {
  const route = useRoute();
  const [needKey, setNeedKey] = useState(false);
  const [theme, setTheme] = useState<Theme | null>(() => (localStorage.getItem("airlock.theme") as Theme | null) ?? null);
  useEffect(() => {
    if (theme) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
  }, [theme]);
  const dark = theme ? theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  return (
    <div className={`app ${route.name === "session" ? "in-session" : "at-home"}`}>
      <Sidebar current={route.name === "session" ? route.id : undefined} onUnauthorized={() => setNeedKey(true)} />
      <main className="main">{route.name === "session" ? <SessionPage key={route.id} id={route.id} /> : <NewSession />}</main>
      <button
        className="theme-toggle icon-btn"
        aria-label={`Switch to ${dark ? "light" : "dark"} theme`}
        onClick={() => {
          const next: Theme = dark ? "light" : "dark";
          localStorage.setItem("airlock.theme", next);
          setTheme(next);
        }}
      >
        {dark ? "☀" : "☾"}
      </button>
      {needKey && <ApiKeyDialog onDone={() => location.reload()} />}
    </div>
  );
}
