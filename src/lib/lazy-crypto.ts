// node:crypto on first use. Importing it loads some twenty of Node's modules
// at start-up, which `nook run` pays for without hashing anything; the store
// and the run path reach for it only when they do hash or name a temp file.
import { createRequire } from "node:module";

let loaded: typeof import("node:crypto") | undefined;

export const crypto = (): typeof import("node:crypto") =>
  (loaded ??= createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto"));
