// --security-opt, as Docker and Podman spell it (pure): parsed once into a
// value, each bad one refused in one line before anything is made.
import { posix } from "node:path";

/** The container's seccomp profile: nook's default, none, or a file in Docker's format. */
export type SeccompChoice = "default" | "unconfined" | { readonly file: string };

export interface SecurityOptions {
  /** no_new_privs on the container's processes: setuid and file capabilities stop working. */
  readonly noNewPrivileges: boolean;
  readonly seccomp: SeccompChoice;
  /** mask=: more paths to hide. */
  readonly mask: readonly string[];
  /** unmask=: default masked or read-only paths to leave alone (globs), or ALL of them. */
  readonly unmask: readonly string[];
  /** The options as nook understood them, for nook inspect's HostConfig.SecurityOpt. */
  readonly given: readonly string[];
}

const truthy = (v: string): boolean | undefined =>
  v === "" || v === "true" || v === "1" ? true : v === "false" || v === "0" ? false : undefined;

/** "key=value", or Docker's older "key:value" (not for mask and unmask, whose values hold colons). */
const split = (opt: string): [string, string] => {
  const at = opt.search(/[=:]/);
  return at < 0 ? [opt, ""] : [opt.slice(0, at), opt.slice(at + 1)];
};

const paths = (opt: string, value: string, globs: boolean): string[] | string => {
  const list = value.split(":").filter((p) => p !== "");
  if (list.length === 0) return `--security-opt ${opt}: give one or more absolute paths, separated by colons`;
  for (const p of list)
    if (!p.startsWith("/") && !(globs && p === "ALL"))
      return `--security-opt ${opt}: ${p} is not an absolute path`;
  return list.map((p) => (p === "ALL" ? p : posix.normalize(p)));
};

/** `cwd` makes a relative seccomp profile path absolute, as the container keeps it. */
export const parseSecurityOpts = (opts: readonly string[], cwd: string): SecurityOptions | string => {
  let noNewPrivileges = false;
  let seccomp: SeccompChoice = "default";
  const mask: string[] = [];
  const unmask: string[] = [];
  const given: string[] = [];
  for (const opt of opts) {
    const [key, value] = split(opt);
    switch (key) {
      case "no-new-privileges": {
        const on = truthy(value);
        if (on === undefined) return `--security-opt ${opt}: no-new-privileges takes true or false`;
        noNewPrivileges = on;
        break;
      }
      case "seccomp":
        if (value === "")
          return `--security-opt ${opt}: seccomp takes unconfined, builtin or a profile's path`;
        // builtin: Docker's name for its default profile.
        seccomp =
          value === "unconfined"
            ? "unconfined"
            : value === "builtin"
              ? "default"
              : { file: posix.resolve(cwd, value) };
        break;
      // Nothing to turn off without SELinux or AppArmor in a user namespace;
      // anything else would ask for a profile or a label only root can load.
      case "label":
        if (value !== "disable")
          return `--security-opt ${opt}: rootless nook cannot apply SELinux labels (label=disable is accepted)`;
        given.push("label=disable");
        break;
      case "apparmor":
        if (value !== "unconfined")
          return `--security-opt ${opt}: rootless nook cannot load AppArmor profiles (apparmor=unconfined is accepted)`;
        given.push("apparmor=unconfined");
        break;
      case "mask":
      case "unmask": {
        const eq = opt.indexOf("=");
        const list = paths(opt, eq < 0 ? "" : opt.slice(eq + 1), key === "unmask");
        if (typeof list === "string") return list;
        (key === "mask" ? mask : unmask).push(...list);
        given.push(`${key}=${list.join(":")}`);
        break;
      }
      // Docker's spelling of unmask=ALL.
      case "systempaths":
        if (value !== "unconfined") return `--security-opt ${opt}: systempaths takes unconfined`;
        unmask.push("ALL");
        given.push("systempaths=unconfined");
        break;
      default:
        return `--security-opt ${opt}: unknown option (nook knows no-new-privileges, seccomp=, mask=, unmask=, label=disable, apparmor=unconfined)`;
    }
  }
  return {
    noNewPrivileges,
    seccomp,
    mask,
    unmask,
    // Docker shows what was given; nook also shows the default profile, by Docker's name for it.
    given: [
      ...(noNewPrivileges ? ["no-new-privileges"] : []),
      `seccomp=${seccomp === "default" ? "builtin" : seccomp === "unconfined" ? "unconfined" : seccomp.file}`,
      ...given,
    ],
  };
};

const globToRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .split("")
      .map((c) => (c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
      .join("")}$`,
  );

/**
 * The masked and read-only paths of a container (Podman's rules): the
 * defaults unless --privileged, plus mask=, minus what unmask= matches (ALL:
 * every default).
 */
export const systemPaths = (
  defaults: { readonly masked: readonly string[]; readonly readOnly: readonly string[] },
  privileged: boolean,
  opts: Pick<SecurityOptions, "mask" | "unmask">,
): { masked: string[]; readOnly: string[] } => {
  const all = opts.unmask.includes("ALL");
  const patterns = opts.unmask.filter((p) => p !== "ALL").map(globToRegExp);
  const keep = (p: string): boolean => !all && !patterns.some((re) => re.test(p));
  const base = privileged ? { masked: [], readOnly: [] } : defaults;
  return {
    masked: [...new Set([...base.masked.filter(keep), ...opts.mask])],
    readOnly: base.readOnly.filter(keep),
  };
};
