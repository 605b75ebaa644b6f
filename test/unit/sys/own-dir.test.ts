// ownDir on real directories: run as root the tests hand directories to
// another uid with chown; as anyone else those cases are skipped with the reason.
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { holdsPrivateDirs, ownDir } from "../../../src/sys/own-dir.js";

const me = process.getuid?.() ?? 0;
const asRoot = me === 0;
const OTHER = 4242;
let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nook-owndir-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

if (!asRoot) process.stderr.write("[skipped] ownDir with another owner: needs root to chown\n");

describe("ownDir", () => {
  it("accepts a private directory of ours and says a missing one can be made", () => {
    mkdirSync(join(dir, "mine"), { mode: 0o700 });
    expect(ownDir(join(dir, "mine"), me)).toEqual({ kind: "own" });
    expect(ownDir(join(dir, "new", "deeper"), me)).toEqual({ kind: "creatable", parent: dir });
  });

  it("refuses a directory others may write in", () => {
    mkdirSync(join(dir, "open"));
    chmodSync(join(dir, "open"), 0o777);
    expect(ownDir(join(dir, "open"), me)).toMatchObject({
      kind: "foreign",
      reason: "is writable by others (mode 777)",
    });
  });

  it.skipIf(!asRoot)("refuses another user's directory, and making one inside it", () => {
    mkdirSync(join(dir, "theirs"), { mode: 0o755 });
    chownSync(join(dir, "theirs"), OTHER, OTHER);
    expect(ownDir(join(dir, "theirs"), me)).toMatchObject({
      kind: "foreign",
      reason: `belongs to uid ${OTHER}, not to you (${me})`,
    });
    expect(ownDir(join(dir, "theirs", "x"), me)).toMatchObject({
      kind: "foreign",
      path: join(dir, "theirs"),
    });
  });

  it.skipIf(!asRoot)("refuses a symbolic link another user planted, even to a directory of ours", () => {
    mkdirSync(join(dir, "mine"), { mode: 0o700 });
    symlinkSync(join(dir, "mine"), join(dir, "link"));
    expect(ownDir(join(dir, "link"), me)).toEqual({ kind: "own" });
    const theirs = join(dir, "planted");
    symlinkSync(join(dir, "mine"), theirs);
    lchownSync(theirs, OTHER, OTHER);
    expect(ownDir(theirs, me)).toMatchObject({
      kind: "foreign",
      reason: `is a symbolic link of uid ${OTHER}`,
    });
  });

  it.skipIf(!asRoot)("lets a sticky directory of another user hold private ones (/tmp)", () => {
    mkdirSync(join(dir, "sticky"));
    chmodSync(join(dir, "sticky"), 0o1777);
    chownSync(join(dir, "sticky"), OTHER, OTHER);
    expect(ownDir(join(dir, "sticky", "nook-1"), me)).toEqual({
      kind: "creatable",
      parent: join(dir, "sticky"),
    });
    expect(holdsPrivateDirs(join(dir, "sticky"), me)).toBe(true);
    chmodSync(join(dir, "sticky"), 0o777);
    expect(holdsPrivateDirs(join(dir, "sticky"), me)).toBe(false);
  });
});
