// The executable's entry: everything else is loaded from here, and command
// modules load their use cases on demand (separate chunks in dist/), so that
// `nook --version` parses little more than clipanion.
import { main } from "./main.js";

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
