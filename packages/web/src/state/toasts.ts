/**
 * @module toasts — short-lived notices over the app (a permission request, a failed action), in a tiny store
 * that components read with `useSyncExternalStore`.
 */

export interface Toast {
  id: string;
  tone: "info" | "warn" | "bad" | "ok";
  title: string;
  body?: string;
  action?: { label: string; run(): void };
  /** Milliseconds before it goes by itself; 0 keeps it until dismissed. */
  ttlMs: number;
}

let toasts: readonly Toast[] = [];
const listeners = new Set<() => void>();
const timers = new Map<string, ReturnType<typeof setTimeout>>();
let counter = 0;

const emit = () => {
  for (const l of listeners) l();
};

export function showToast(toast: Omit<Toast, "id" | "ttlMs"> & { id?: string; ttlMs?: number }): string {
  const id = toast.id ?? `toast_${++counter}`;
  const full: Toast = { ttlMs: 6000, ...toast, id };
  toasts = [...toasts.filter((t) => t.id !== id), full].slice(-4);
  clearTimeout(timers.get(id));
  if (full.ttlMs > 0) timers.set(id, setTimeout(() => dismissToast(id), full.ttlMs));
  emit();
  return id;
}

export function dismissToast(id: string): void {
  clearTimeout(timers.get(id));
  timers.delete(id);
  if (!toasts.some((t) => t.id === id)) return;
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

export const toastStore = {
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  get: () => toasts,
};
