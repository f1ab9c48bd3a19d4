/**
 * @module client — the one API client of the app (same origin as the server), with the API key the user
 * entered, if any, kept in localStorage.
 */
import { AirlockClient } from "@airlock/protocol";

const keyName = "airlock.apiKey";

export const apiKey = () => localStorage.getItem(keyName) ?? undefined;
export function setApiKey(key: string | null): void {
  if (key) localStorage.setItem(keyName, key);
  else localStorage.removeItem(keyName);
  client = new AirlockClient({ apiKey: apiKey() });
}

export let client = new AirlockClient({ apiKey: apiKey() });
