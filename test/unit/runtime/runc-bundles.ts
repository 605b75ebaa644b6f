// Real config.json files, as runc writes them (`runc spec`, `runc spec
// --rootless`), made at test time in a temporary directory: what Slurm's
// oci.conf examples and most hand-made bundles start from.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { which } from "../../../src/lib/which.js";

/** runc, looked up in PATH and in the sbin directories a user's PATH may lack. */
export const RUNC = which("runc", `${process.env.PATH ?? ""}:/usr/sbin:/sbin`);

/** Why the tests that need runc are skipped, or undefined when runc is here. */
export const runcMissing: string | undefined =
  RUNC === undefined ? "runc is not installed (Debian: apt-get install runc)" : undefined;

export interface RuncBundle {
  /** The bundle's directory (holds config.json only; runc spec makes no rootfs). */
  readonly dir: string;
  /** config.json's text, as runc wrote it. */
  readonly text: string;
}

/** `runc spec [--rootless] --bundle DIR` in a new temporary directory. */
export const runcSpec = (rootless: boolean): RuncBundle => {
  if (RUNC === undefined) throw new Error(runcMissing);
  const dir = mkdtempSync(join(tmpdir(), "nook-runc-spec-"));
  execFileSync(RUNC, ["spec", ...(rootless ? ["--rootless"] : []), "--bundle", dir], { stdio: "pipe" });
  return { dir, text: readFileSync(join(dir, "config.json"), "utf8") };
};

export const removeBundle = (b: RuncBundle | undefined): void => {
  if (b) rmSync(b.dir, { recursive: true, force: true });
};

/**
 * Both of runc's bundles for the tests of one describe block: made before
 * them, removed after; read them inside tests.
 */
export const useRuncBundles = (): { plain: () => RuncBundle; rootless: () => RuncBundle } => {
  let plain: RuncBundle | undefined;
  let rootless: RuncBundle | undefined;
  beforeAll(() => {
    plain = runcSpec(false);
    rootless = runcSpec(true);
  });
  afterAll(() => {
    removeBundle(plain);
    removeBundle(rootless);
  });
  const made = (b: RuncBundle | undefined): RuncBundle => {
    if (!b) throw new Error("runc's bundles are made before the tests");
    return b;
  };
  return { plain: () => made(plain), rootless: () => made(rootless) };
};
