// Whether a directory is the user's own to keep private files in: nook's
// store and runtime directories must never be another user's (planted in
// /tmp before us, or inherited through HOME, XDG_* or TMPDIR from whoever ran
// `setpriv`), nor writable by others, who could swap what is inside.
import { lstatSync, statSync, type Stats } from "node:fs";
import { dirname } from "node:path";

export type DirVerdict =
  /** It exists, is a directory, ours, and only we may write in it. */
  | { readonly kind: "own" }
  /** It does not exist; its nearest existing parent lets us make it as our own. */
  | { readonly kind: "creatable"; readonly parent: string }
  /** Not for us: the reason is one clause, "belongs to uid 0, not to you (1001)". */
  | { readonly kind: "foreign"; readonly path: string; readonly reason: string };

const STICKY = 0o1000;

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? "error";

/** Why lstat failed, as a clause: EACCES means a directory above is another user's private one. */
const unreadable = (e: unknown): string =>
  code(e) === "EACCES"
    ? "is in a directory you may not look into (EACCES)"
    : `cannot be looked at (${code(e)})`;

/**
 * A symbolic link counts only when we own the link itself: in a sticky
 * directory such as /tmp nobody else can then re-point it after we looked.
 */
const resolved = (path: string, uid: number): Stats | DirVerdict | "missing" => {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    return code(e) === "ENOENT" ? "missing" : { kind: "foreign", path, reason: unreadable(e) };
  }
  if (!st.isSymbolicLink()) return st;
  if (st.uid !== uid) return { kind: "foreign", path, reason: `is a symbolic link of uid ${st.uid}` };
  try {
    return statSync(path);
  } catch (e) {
    return { kind: "foreign", path, reason: `is a symbolic link to nothing usable (${code(e)})` };
  }
};

const judge = (path: string, st: Stats, uid: number): DirVerdict => {
  if (!st.isDirectory()) return { kind: "foreign", path, reason: "is not a directory" };
  if (st.uid !== uid)
    return { kind: "foreign", path, reason: `belongs to uid ${st.uid}, not to you (${uid})` };
  if ((st.mode & 0o022) !== 0)
    return {
      kind: "foreign",
      path,
      reason: `is writable by others (mode ${(st.mode & 0o7777).toString(8)})`,
    };
  return { kind: "own" };
};

/**
 * Whether `path` is (or can be made) a private directory of `uid`. A missing
 * directory is creatable when its nearest existing parent is ours, or a
 * sticky directory such as /tmp where what we make stays ours.
 */
export const ownDir = (path: string, uid: number = process.getuid?.() ?? 0): DirVerdict => {
  const here = resolved(path, uid);
  if (here !== "missing") return "kind" in here ? here : judge(path, here, uid);
  for (let p = dirname(path); ; p = dirname(p)) {
    let st: Stats;
    try {
      st = statSync(p);
    } catch (e) {
      if (code(e) === "ENOENT" && p !== dirname(p)) continue;
      return { kind: "foreign", path: p, reason: unreadable(e) };
    }
    if (!st.isDirectory()) return { kind: "foreign", path: p, reason: "is not a directory" };
    if (st.uid === uid || (st.mode & STICKY) !== 0) return { kind: "creatable", parent: p };
    return { kind: "foreign", path: p, reason: `belongs to uid ${st.uid}, not to you (${uid})` };
  }
};

/** Whether `path` is a directory we own: exists, ours, and only we may write in it. */
export const isOwnDir = (path: string, uid?: number): boolean => ownDir(path, uid).kind === "own";

/** The owner of what `path` names (symlinks followed), or undefined when it cannot be looked at. */
export const ownerOf = (path: string): number | undefined => {
  try {
    return statSync(path).uid;
  } catch {
    return undefined;
  }
};

/**
 * Whether a private directory made in `dir` stays private: `dir` is ours, or
 * sticky (/tmp), where nobody else may rename or remove what we make.
 */
export const holdsPrivateDirs = (dir: string, uid: number = process.getuid?.() ?? 0): boolean => {
  try {
    const st = statSync(dir);
    return st.isDirectory() && (st.uid === uid || (st.mode & STICKY) !== 0);
  } catch {
    return false;
  }
};
