// The compiled seccomp filter a container starts with: its profile (nook's
// default, or the file given at create, kept in the container's directory)
// resolved for its capabilities and this host, compiled once and kept in
// $XDG_CACHE_HOME/nook/seccomp/ under the hash of what was compiled, so that
// a start costs a hash and a stat, not a compile.
import { runtimeDir } from "./locations.js";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir, release } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { crypto } from "../lib/lazy-crypto.js";
import { DEFAULT_CAPABILITIES } from "../runtime/capabilities.js";
import { compileFilter } from "../runtime/seccomp/bpf.js";
import { DEFAULT_PROFILE } from "../runtime/seccomp/default-profile.js";
import { decodeProfile, type Profile } from "../runtime/seccomp/profile.js";
import { filterKey, hostFor, resolveProfile } from "../runtime/seccomp/resolve.js";
import type { ContainerRecord } from "../store/records.js";

/** Bumped when the compiler's output changes, so that older cached programs are not used. */
const COMPILER = "nook-bpf-1";

const fail = (message: string, hint?: string): E.Either<NookError, never> =>
  E.left({ _tag: "SeccompFailed", message, ...(hint ? { hint } : {}) });

/** Where a container created with seccomp=FILE keeps the profile it was created with. */
export const profileCopy = (dir: string): string => join(dir, "seccomp.json");

/**
 * Where compiled filters are kept: the user's cache directory, or, for a user
 * without a home of their own (a batch system's account, a uid with no passwd
 * entry), nook's private runtime directory.
 */
const cacheDir = (): string => {
  const home = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "nook", "seccomp");
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    // Another user's (HOME kept by sudo or setpriv): not ours to write in.
    if (statSync(home).uid === process.getuid?.()) return home;
    throw new Error("not ours");
  } catch {
    const rt = runtimeDir();
    return E.isRight(rt) ? join(rt.right, "seccomp") : home;
  }
};

/** Checks a profile file given at create; its text is what the container keeps. */
export const readProfileFile = (path: string): E.Either<NookError, { text: string; profile: Profile }> => {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return fail(
      `--security-opt seccomp=${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const profile = decodeProfile(text, `seccomp profile ${path}`);
  return E.isLeft(profile) ? fail(profile.left) : E.right({ text, profile: profile.right });
};

let warned = false;

/**
 * The filter file and seccomp(2) flags for a start of this container, or
 * undefined when it runs without one (seccomp=unconfined, --privileged without a profile, or a
 * host nook has no syscall table for, which it says once).
 */
export const seccompFilter = (
  record: ContainerRecord,
): E.Either<NookError, { file: string; flags: number } | undefined> => {
  const s = record.spec;
  const choice = s.seccomp ?? "default";
  // --privileged runs without the default filter; a profile asked for by name still applies.
  if (choice === "unconfined" || (s.privileged && choice === "default")) return E.right(undefined);
  const host = hostFor(process.arch, release());
  if (host === undefined) {
    if (choice !== "default")
      return fail(`--security-opt seccomp=${choice.file}: nook has no syscall table for ${process.arch}`);
    if (!warned)
      process.stderr.write(`nook: warning: no seccomp filter on ${process.arch} (no syscall table)\n`);
    warned = true;
    return E.right(undefined);
  }
  let profile: Profile = DEFAULT_PROFILE;
  if (choice !== "default") {
    let text: string;
    try {
      text = readFileSync(profileCopy(s.dir), "utf8");
    } catch (e) {
      return fail(`the seccomp profile of container ${record.name}: ${(e as Error).message}`);
    }
    const decoded = decodeProfile(text, `seccomp profile ${choice.file}`);
    if (E.isLeft(decoded)) return fail(decoded.left);
    profile = decoded.right;
  }
  return compiledFilter(
    profile,
    s.capabilities ?? DEFAULT_CAPABILITIES,
    choice === "default" ? "default" : choice.file,
  );
};

/**
 * A profile compiled for this host and these capabilities, once: the filter
 * file in the cache (keyed by the resolved filter) and its seccomp(2) flags.
 * `what` names the profile in errors.
 */
export const compiledFilter = (
  profile: Profile,
  capabilities: readonly string[],
  what: string,
): E.Either<NookError, { file: string; flags: number } | undefined> => {
  const host = hostFor(process.arch, release());
  if (host === undefined)
    return fail(`seccomp profile ${what}: nook has no syscall table for ${process.arch}`);
  const resolved = resolveProfile(profile, capabilities, host);
  if (typeof resolved === "string") return fail(`seccomp profile ${what}: ${resolved}`);
  const key = crypto()
    .createHash("sha256")
    .update(`${COMPILER}\n${filterKey(resolved)}`)
    .digest("hex");
  const dir = cacheDir();
  const file = join(dir, `${key}.bpf`);
  if (!existsSync(file)) {
    const program = compileFilter(resolved);
    if (typeof program === "string") return fail(program);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}`;
      writeFileSync(tmp, program, { mode: 0o600 });
      renameSync(tmp, file);
    } catch (e) {
      return fail(`write the compiled seccomp filter in ${dir}: ${(e as Error).message}`);
    }
  }
  return E.right({ file, flags: resolved.flags });
};
