/**
 * @module client — the app's one API client (same origin as the server), carrying the API key the user
 * entered, if any (kept in this browser's localStorage). A 401 from any call tells the app to ask for a key.
 */
import { AirlockClient } from "@airlock/client";

const keyName = "airlock.apiKey";
const unauthorizedListeners = new Set<() => void>();

const storedKey = (): string | undefined => {
  try {
    return localStorage.getItem(keyName) ?? undefined;
  } catch {
    return undefined; // storage blocked: work without a key
  }
};

const watchedFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (res.status === 401) for (const l of unauthorizedListeners) l();
  return res;
};

const make = () => new AirlockClient({ apiKey: storedKey(), fetch: watchedFetch });

export let client = make();

export const hasApiKey = (): boolean => Boolean(storedKey());

export function setApiKey(key: string | null): void {
  if (key) localStorage.setItem(keyName, key);
  else localStorage.removeItem(keyName);
  client = make();
}

export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}
