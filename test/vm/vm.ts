// Running scripts in the guest started by setup.ts, as its user "nook".
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, inject } from "vitest";
import { VM_DIR } from "./setup.js";

export interface VmResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A shell script in the guest; `root` runs it as the guest's root. */
export const vmRun = (
  script: string,
  opts: { root?: boolean; timeoutMs?: number } = {},
): Promise<VmResult> => {
  const vm = inject("vm");
  if (!("name" in vm)) throw new Error(`no guest: ${vm.unavailable}`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(VM_DIR, "vm.sh"),
      ["exec", "--name", vm.name, ...(opts.root ? ["--root"] : []), "-i", "--", "sh", "-s"],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 540_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(script);
  });
};

/** key=value lines of a script's output, the last of each key winning. */
export const keyValues = (stdout: string): Record<string, string> =>
  Object.fromEntries(
    stdout
      .split("\n")
      .map((l) => /^([A-Za-z_][\w.-]*)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] ?? "", m[2] ?? ""]),
  );

/** describe, or a printed reason and skipped tests when this host cannot run the guest. */
export const describeInVm = (name: string, body: () => void): void => {
  const vm = inject("vm");
  const why = "unavailable" in vm ? vm.unavailable : undefined;
  if (why !== undefined) process.stderr.write(`[skipped] ${name}: needs the systemd guest: ${why}\n`);
  describe.skipIf(why !== undefined)(name, body);
};
