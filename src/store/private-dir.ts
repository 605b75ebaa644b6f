// Makes a directory that location.ts chose (the store, the runtime directory
// for sockets), 0700, and checks after making it that it is the user's
// own: a directory planted there by another user before us (/tmp/nook-UID),
// or one others may write in, is refused, never used. Ours but readable by
// others, it is made private.
import { chmodSync, mkdirSync, statSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { ownDir } from "../sys/own-dir.js";

/** Ours, but others may read or enter it (made by an older nook, or by hand): 0700, as everything nook keeps. */
const tighten = (dir: string): E.Either<NookError, string> => {
  try {
    if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
    return E.right(dir);
  } catch (e) {
    return E.left({ _tag: "RuntimeDir", message: `chmod 0700 ${dir}: ${(e as Error).message}` });
  }
};

export const makePrivateDir = (dir: string, what: string, hint: string): E.Either<NookError, string> => {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return E.left({ _tag: "RuntimeDir", message: `create ${what} ${dir}: ${(e as Error).message}` });
  }
  const v = ownDir(dir);
  if (v.kind !== "foreign") return tighten(dir);
  return E.left({
    _tag: "RuntimeDir",
    message: `${what} ${dir} cannot be used: ${v.path === dir ? "it" : v.path} ${v.reason}`,
    hint,
  });
};
