// nook's own configuration file, $XDG_CONFIG_HOME/nook/config.toml
// (~/.config/nook/config.toml): where the store and the runtime directory
// live, the default network and the cgroup manager. The keys are the names of
// the flags that override them (Podman's: --root, --runroot, --network,
// --cgroup-manager):
//
//   root = "/scratch/me/nook"
//   runroot = "/tmp/me-nook"
//   network = "slirp4netns"
//   cgroup_manager = "cgroupfs"
//
// An unknown key is an error, not ignored: a misspelt `root` would otherwise
// leave the store where the user meant to move it from.
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { parse as parseToml } from "smol-toml";
import { decode } from "../lib/decode.js";
import type { NookError } from "../lib/errors.js";

const AbsolutePath = new t.Type<string, string, unknown>(
  "an absolute path",
  (u): u is string => typeof u === "string" && u.startsWith("/"),
  (u, c) => (typeof u === "string" && u.startsWith("/") ? t.success(u) : t.failure(u, c)),
  t.identity,
);

export const CgroupManager = t.keyof(
  { systemd: null, cgroupfs: null, none: null },
  "systemd, cgroupfs or none",
);
export type CgroupManager = t.TypeOf<typeof CgroupManager>;

export const NookConfig = t.partial({
  root: AbsolutePath,
  runroot: AbsolutePath,
  network: t.string,
  cgroup_manager: CgroupManager,
});
export type NookConfig = t.TypeOf<typeof NookConfig>;

const KEYS = new Set(Object.keys(NookConfig.props));

export const configFilePath = (configHome: string): string => join(configHome, "nook", "config.toml");

/** The file's settings; a syntax error, an unknown key or a bad value is one line naming the file. */
export const parseConfig = (text: string, path: string): E.Either<NookError, NookConfig> => {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (e) {
    const first = (e as Error).message.split("\n")[0] ?? "";
    return E.left({ _tag: "ConfigInvalid", message: `${path}: not TOML (${first})` });
  }
  const unknown = Object.keys(doc).filter((k) => !KEYS.has(k));
  if (unknown.length > 0)
    return E.left({
      _tag: "ConfigInvalid",
      message: `${path}: unknown key ${unknown.join(", ")}`,
      hint: `the keys are ${[...KEYS].join(", ")}`,
    });
  return E.mapLeft((d: { message: string }): NookError => ({ _tag: "ConfigInvalid", message: d.message }))(
    decode(NookConfig, path)(doc),
  );
};
