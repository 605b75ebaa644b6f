// Makes a directory that location.ts chose (the store, the runtime directory
// for sockets), 0700, and checks after making it that it is the user's
// own: a directory planted there by another user before us (/tmp/nook-UID),
// or one others may write in, is refused, never used.
import { mkdirSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { ownDir } from "../sys/own-dir.js";

export const makePrivateDir = (dir: string, what: string, hint: string): E.Either<NookError, string> => {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return E.left({ _tag: "RuntimeDir", message: `create ${what} ${dir}: ${(e as Error).message}` });
  }
  const v = ownDir(dir);
  if (v.kind !== "foreign") return E.right(dir);
  return E.left({
    _tag: "RuntimeDir",
    message: `${what} ${dir} cannot be used: ${v.path === dir ? "it" : v.path} ${v.reason}`,
    hint,
  });
};
