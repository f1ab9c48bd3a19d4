export * from "./api.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./ids.ts";
export * from "./journal.ts";
export * from "./provider.ts";
export * from "./store.ts";
export * from "./setup.ts";
