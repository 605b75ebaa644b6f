// Runs the staged nook CLI as a test user, the way a person would: a fresh
// process, a login-like environment, the user's own uid (runuser when the
// tests run as root). Returns what it printed and how it exited.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { describe, inject } from "vitest";
import { isRoot, type TestUser } from "./users.js";

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Replaces PATH (default: the usual system PATH). */
  readonly path?: string;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export const nookBin = (): string => join(inject("stage"), "dist", "nook");

/**
 * Starts any program as `user` with a clean login-like environment; its pid
 * is runuser's when the tests run as root (runuser waits for it).
 */
export const spawnAs = (
  user: TestUser,
  argv: readonly string[],
  opts: RunOptions & { stdin?: "ignore" | "pipe" } = {},
): ChildProcessByStdio<Writable | null, Readable, Readable> => {
  const env: Record<string, string> = {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    PATH: opts.path ?? SYSTEM_PATH,
    LANG: "C.UTF-8",
    ...opts.env,
  };
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const [cmd, args] = isRoot()
    ? ["runuser", ["-u", user.name, "--", "/usr/bin/env", "-i", ...envArgs, ...argv]]
    : ["/usr/bin/env", ["-i", ...envArgs, ...argv]];
  const child = spawn(cmd, args, { cwd: opts.cwd ?? "/", stdio: [opts.stdin ?? "ignore", "pipe", "pipe"] });
  return child as ChildProcessByStdio<Writable | null, Readable, Readable>;
};

/** Runs any program as `user` with a clean login-like environment; `input` is its stdin (none when absent). */
export const runAs = (
  user: TestUser,
  argv: readonly string[],
  opts: RunOptions & { input?: string } = {},
): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawnAs(user, argv, { ...opts, stdin: opts.input === undefined ? "ignore" : "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin?.on("error", () => {}); // a command that exits without reading its input
    child.stdin?.end(opts.input);
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });

/** `nook ARGS...` as `user`. */
export const nook = (user: TestUser, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> =>
  runAs(user, [process.execPath, nookBin(), ...args], opts);

/**
 * A describe block run as one kind of test user. When this host cannot give
 * that user (not root, and the current user is the other kind), the block is
 * skipped and the reason printed.
 */
export const describeAs = (
  kind: "sub" | "nosub",
  title: string,
  body: (user: () => TestUser) => void,
): void => {
  const a = inject("users")[kind];
  if ("skip" in a) process.stderr.write(`[skipped] ${title}: ${a.skip}\n`);
  describe.skipIf("skip" in a)(title, () =>
    body(() => {
      if (!("user" in a)) throw new Error("unreachable: skipped block ran");
      return a.user;
    }),
  );
};

/**
 * Every process below `pid` now (children, their children...), from
 * /proc/PID/stat: what a test checks is gone after killing `pid`, without
 * mistaking another test's processes for leftovers.
 */
export const descendants = (pid: number): number[] => {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parentOf.set(Number(name), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf)
      if (parent === p) {
        out.push(child);
        walk(child);
      }
  };
  walk(pid);
  return out;
};

/** Whether a process still runs (a zombie counts as gone: it no longer does anything). */
export const running = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return false;
  }
};
