/**
 * @module use-theme — light, dark, or the system's choice (`prefers-color-scheme`), remembered per browser.
 * The choice is applied as `data-theme` on <html>; with none, the CSS follows the system.
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from "react";

export type ThemeChoice = "system" | "light" | "dark";
const key = "airlock.theme";
const media = () => window.matchMedia("(prefers-color-scheme: dark)");

const read = (): ThemeChoice => {
  try {
    const v = localStorage.getItem(key);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
};

export function applyStoredTheme(): void {
  const choice = read();
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

export function useTheme() {
  const [choice, setChoice] = useState<ThemeChoice>(read);
  const systemDark = useSyncExternalStore(
    (l) => {
      const m = media();
      m.addEventListener("change", l);
      return () => m.removeEventListener("change", l);
    },
    () => media().matches,
  );
  useEffect(() => {
    if (choice === "system") {
      delete document.documentElement.dataset.theme;
      localStorage.removeItem(key);
    } else {
      document.documentElement.dataset.theme = choice;
      localStorage.setItem(key, choice);
    }
  }, [choice]);
  const dark = choice === "dark" || (choice === "system" && systemDark);
  const toggle = useCallback(() => setChoice(dark ? "light" : "dark"), [dark]);
  return { choice, dark, setChoice, toggle };
}
