// The executable's entry: everything else is loaded from here, and command
// modules load their use cases on demand (separate chunks in dist/), so that
// `nook --version` parses little more than clipanion.
import { main } from "./main.js";

// A reader that goes away (nook logs web | head -1) ends the output, not nook
// with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
