// --security-opt, as Docker and Podman spell it (pure): parsed once into a
// value, each bad one refused in one line before anything is made.

/** The container's seccomp profile: nook's default, none, or a file in Docker's format. */
export type SeccompChoice = "default" | "unconfined" | { readonly file: string };

export interface SecurityOptions {
  /** no_new_privs on the container's processes: setuid and file capabilities stop working. */
  readonly noNewPrivileges: boolean;
  readonly seccomp: SeccompChoice;
  /** The options as nook understood them, for nook inspect's HostConfig.SecurityOpt. */
  readonly given: readonly string[];
}

const truthy = (v: string): boolean | undefined =>
  v === "" || v === "true" || v === "1" ? true : v === "false" || v === "0" ? false : undefined;

/** "key=value", or Docker's older "key:value". */
const split = (opt: string): [string, string] => {
  const at = opt.search(/[=:]/);
  return at < 0 ? [opt, ""] : [opt.slice(0, at), opt.slice(at + 1)];
};

export const parseSecurityOpts = (opts: readonly string[]): SecurityOptions | string => {
  let noNewPrivileges = false;
  let seccomp: SeccompChoice = "default";
  const given: string[] = [];
  for (const opt of opts) {
    const [key, value] = split(opt);
    switch (key) {
      case "no-new-privileges": {
        const on = truthy(value);
        if (on === undefined) return `--security-opt ${opt}: no-new-privileges takes true or false`;
        noNewPrivileges = on;
        if (on) given.push("no-new-privileges");
        break;
      }
      case "seccomp":
        if (value === "")
          return `--security-opt ${opt}: seccomp takes unconfined, builtin or a profile's path`;
        // builtin: Docker's name for its default profile.
        seccomp = value === "unconfined" ? "unconfined" : value === "builtin" ? "default" : { file: value };
        break;
      default:
        return `--security-opt ${opt}: unknown option (nook knows no-new-privileges and seccomp=)`;
    }
  }
  return {
    noNewPrivileges,
    seccomp,
    // Docker shows what was given; nook also shows the default profile, by Docker's name for it.
    given: [
      ...given,
      `seccomp=${seccomp === "default" ? "builtin" : seccomp === "unconfined" ? "unconfined" : seccomp.file}`,
    ],
  };
};
