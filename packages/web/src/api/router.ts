/**
 * @module router — the app's routes on the History API: `/` (sessions and the new-session form),
 * `/sessions/<id>` (one conversation) and `/secrets`. URLs are shareable; a reload opens the same view.
 */
import { useSyncExternalStore } from "react";

export type Route = { name: "home" } | { name: "secrets" } | { name: "session"; id: string };

export function parseRoute(path: string): Route {
  if (/^\/secrets\/?$/.test(path)) return { name: "secrets" };
  const m = path.match(/^\/sessions\/([A-Za-z0-9_-]+)\/?$/);
  return m ? { name: "session", id: m[1] } : { name: "home" };
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === location.pathname) return;
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

const subscribe = (listener: () => void) => {
  window.addEventListener("popstate", listener);
  return () => window.removeEventListener("popstate", listener);
};

let cached: { path: string; route: Route } | null = null;
const snapshot = (): Route => {
  if (cached?.path !== location.pathname) cached = { path: location.pathname, route: parseRoute(location.pathname) };
  return cached.route;
};

export function useRoute(): Route {
  return useSyncExternalStore(subscribe, snapshot);
}

/** Props for an `<a>` that navigates inside the app (and still opens a new tab on Ctrl/Cmd-click). */
export function linkProps(path: string, after?: () => void) {
  return {
    href: path,
    onClick(e: { preventDefault(): void; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; button: number }) {
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      navigate(path);
      after?.();
    },
  };
}
