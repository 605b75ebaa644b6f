// Resource limits for a container (pure): Docker's --ulimit NAME=SOFT[:HARD]
// and the defaults rootless Podman gives (open files and processes raised to
// the hard limits the user has). Limits are not namespaced: a hard limit above
// the user's own is refused by the kernel, and said so before the container
// starts.
import * as E from "fp-ts/lib/Either.js";

export type Limit = number | "unlimited";

export interface Rlimit {
  /** The RLIMIT_* number (asm-generic, the same on x86-64 and arm64). */
  readonly resource: number;
  readonly name: string;
  readonly soft: Limit;
  readonly hard: Limit;
}

/** Docker's names (docker run --ulimit), with RLIMIT_* numbers and the line of /proc/self/limits that shows each. */
export const RLIMITS: Readonly<Record<string, { readonly resource: number; readonly proc: string }>> = {
  cpu: { resource: 0, proc: "Max cpu time" },
  fsize: { resource: 1, proc: "Max file size" },
  data: { resource: 2, proc: "Max data size" },
  stack: { resource: 3, proc: "Max stack size" },
  core: { resource: 4, proc: "Max core file size" },
  rss: { resource: 5, proc: "Max resident set" },
  nproc: { resource: 6, proc: "Max processes" },
  nofile: { resource: 7, proc: "Max open files" },
  memlock: { resource: 8, proc: "Max locked memory" },
  as: { resource: 9, proc: "Max address space" },
  locks: { resource: 10, proc: "Max file locks" },
  sigpending: { resource: 11, proc: "Max pending signals" },
  msgqueue: { resource: 12, proc: "Max msgqueue size" },
  nice: { resource: 13, proc: "Max nice priority" },
  rtprio: { resource: 14, proc: "Max realtime priority" },
  rttime: { resource: 15, proc: "Max realtime timeout" },
};

const parseLimit = (v: string): Limit | undefined =>
  v === "unlimited" || v === "-1" ? "unlimited" : /^\d+$/.test(v) ? Number(v) : undefined;

const above = (a: Limit, b: Limit): boolean => b !== "unlimited" && (a === "unlimited" || a > b);

/** One --ulimit value: NAME=SOFT[:HARD], each a number, -1 or "unlimited"; HARD defaults to SOFT (as Docker). */
export const parseUlimit = (spec: string): E.Either<string, Rlimit> => {
  const eq = spec.indexOf("=");
  const name = eq < 0 ? spec : spec.slice(0, eq);
  const known = RLIMITS[name];
  if (eq < 0) return E.left(`--ulimit ${spec}: expected NAME=SOFT[:HARD]`);
  if (!known)
    return E.left(`--ulimit ${spec}: unknown limit ${name} (known: ${Object.keys(RLIMITS).join(", ")})`);
  const [softText = "", hardText, ...rest] = spec.slice(eq + 1).split(":");
  const soft = parseLimit(softText);
  const hard = hardText === undefined ? soft : parseLimit(hardText);
  if (soft === undefined || hard === undefined || rest.length > 0)
    return E.left(`--ulimit ${spec}: limits are numbers, -1 or unlimited, as SOFT or SOFT:HARD`);
  if (above(soft, hard)) return E.left(`--ulimit ${spec}: the soft limit is above the hard limit`);
  return E.right({ resource: known.resource, name, soft, hard });
};

/** The user's current limits, from /proc/self/limits' text: name -> [soft, hard]. */
export const currentLimits = (procText: string): Map<string, [Limit, Limit]> => {
  const out = new Map<string, [Limit, Limit]>();
  for (const [name, { proc }] of Object.entries(RLIMITS)) {
    const line = procText.split("\n").find((l) => l.startsWith(`${proc} `));
    const [soft, hard] = (line?.slice(proc.length).trim().split(/\s+/) ?? []).map(parseLimit);
    if (soft !== undefined && hard !== undefined) out.set(name, [soft, hard]);
  }
  return out;
};

/**
 * The limits a container gets: what --ulimit asks, checked against the hard
 * limits the user has (only root of the host may raise those), and open files
 * and processes raised to the hard limit where --ulimit leaves them, as
 * rootless Podman does.
 */
export const containerRlimits = (
  asked: readonly Rlimit[],
  current: Map<string, [Limit, Limit]>,
): E.Either<string, Rlimit[]> => {
  const out = new Map<string, Rlimit>();
  for (const name of ["nofile", "nproc"]) {
    const c = current.get(name);
    const known = RLIMITS[name];
    if (c && known && c[0] !== c[1])
      out.set(name, { resource: known.resource, name, soft: c[1], hard: c[1] });
  }
  for (const r of asked) {
    const hard = current.get(r.name)?.[1];
    if (hard !== undefined && above(r.hard, hard))
      return E.left(
        `--ulimit ${r.name}: a hard limit of ${r.hard} is above yours (${hard}); only root can raise it (limits.conf, or LimitNOFILE= and the like for systemd services)`,
      );
    out.set(r.name, r);
  }
  return E.right([...out.values()]);
};
