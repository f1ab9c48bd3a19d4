/**
 * @module router — two routes, `/` and `/sessions/<id>`, on the History API.
 */
import { useEffect, useState } from "react";

export type Route = { name: "home" } | { name: "session"; id: string };

export function parse(path: string): Route {
  const m = path.match(/^\/sessions\/([A-Za-z0-9_]+)\/?$/);
  return m ? { name: "session", id: m[1] } : { name: "home" };
}

export function navigate(path: string): void {
  history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.pathname));
  useEffect(() => {
    const on = () => setRoute(parse(location.pathname));
    window.addEventListener("popstate", on);
    return () => window.removeEventListener("popstate", on);
  }, []);
  return route;
}
