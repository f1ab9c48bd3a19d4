/** Light or dark, starting from the system's choice. */
import { useTheme } from "../api/use-theme.ts";
import { MoonIcon, SunIcon } from "./icons.tsx";

export function ThemeToggle() {
  const { dark, toggle } = useTheme();
  return (
    <button type="button" className="btn ghost small" onClick={toggle} aria-label={`Switch to the ${dark ? "light" : "dark"} theme`} title={`Switch to the ${dark ? "light" : "dark"} theme`}>
      {dark ? <SunIcon size={15} /> : <MoonIcon size={15} />}
      {dark ? "Light" : "Dark"}
    </button>
  );
}
