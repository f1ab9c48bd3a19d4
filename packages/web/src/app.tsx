/** The shell: the sessions sidebar, the page for the current route (home, a session, secrets), toasts, and the API key dialog. */
import { useEffect, useState } from "react";
import { onUnauthorized } from "./api/client.ts";
import { useRoute } from "./api/router.ts";
import { refreshSessions } from "./api/use-sessions.ts";
import { ApiKeyDialog } from "./components/api-key-dialog.tsx";
import { HomePage } from "./components/home-page.tsx";
import { SecretsPage } from "./components/secrets-page.tsx";
import { SessionPage } from "./components/session-page.tsx";
import { Sidebar } from "./components/sidebar.tsx";
import { Toasts } from "./components/toasts.tsx";

export function App() {
  const route = useRoute();
  const [menu, setMenu] = useState(false);
  const [keyDialog, setKeyDialog] = useState<"required" | "settings" | null>(null);

  useEffect(() => onUnauthorized(() => setKeyDialog("required")), []);
  useEffect(() => {
    if (route.name === "home") document.title = "Airlock";
    setMenu(false);
  }, [route]);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Sidebar current={route.name === "session" ? route.id : undefined} open={menu} onClose={() => setMenu(false)} onApiKey={() => setKeyDialog("settings")} />
      <main id="main" className="main">
        {route.name === "session" ? (
          <SessionPage key={route.id} id={route.id} onOpenMenu={() => setMenu(true)} />
        ) : route.name === "secrets" ? (
          <SecretsPage onOpenMenu={() => setMenu(true)} />
        ) : (
          <HomePage onOpenMenu={() => setMenu(true)} />
        )}
      </main>
      <Toasts />
      {keyDialog && (
        <ApiKeyDialog
          reason={keyDialog}
          onDone={(changed) => {
            setKeyDialog(null);
            // Everything on screen was read with the old key (or none): start over with the new one.
            if (changed) location.reload();
            else void refreshSessions();
          }}
        />
      )}
    </div>
  );
}
