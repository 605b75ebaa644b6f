// Where nook keeps what lives only while containers run (sockets): under
// $XDG_RUNTIME_DIR/nook with a login session, else a private /tmp/nook-UID
// (DESIGN.md section 5), never a directory of another user's.
import { lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";

const usable = (dir: string, uid: number): boolean => {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
};

export const runtimeDir = (env: NodeJS.ProcessEnv = process.env): E.Either<NookError, string> => {
  const uid = process.getuid?.() ?? 0;
  const xdg = env.XDG_RUNTIME_DIR;
  const dir = xdg && usable(xdg, uid) ? join(xdg, "nook") : `/tmp/nook-${uid}`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return E.left({ _tag: "RuntimeDir", message: `create ${dir}: ${(e as Error).message}` });
  }
  if (!usable(dir, uid))
    return E.left({
      _tag: "RuntimeDir",
      message: `${dir} belongs to another user or others may write in it`,
      hint: `remove it, or set XDG_RUNTIME_DIR to a directory of yours (mode 0700)`,
    });
  return E.right(dir);
};
