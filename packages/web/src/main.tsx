import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { applyStoredTheme } from "./api/use-theme.ts";
import { App } from "./app.tsx";
import "./styles/index.css";

applyStoredTheme();
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
