export { describeStoreConformance, sessionRecord } from "./store-conformance.ts";
