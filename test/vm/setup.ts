// VM test setup, once per run: the systemd guest from ../shared/vm/ (systemd
// as PID 1, pure cgroup v2, a lingering user "nook" with delegated
// controllers), booted once, with a staged nook at /project and the busybox
// fixture loaded into the guest user's store. The guest is where cgroup
// delegation can be seen; this host has hybrid cgroups and no systemd.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { buildFixtures } from "../support/registry.js";
import { stageNook, unstage } from "../support/stage.js";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../..", import.meta.url));
export const VM_DIR = join(repo, "..", "shared", "vm");

declare module "vitest" {
  export interface ProvidedContext {
    /** The started guest's name for vm.sh, or why there is none. */
    vm: { readonly name: string } | { readonly unavailable: string };
  }
}

const which = async (tool: string): Promise<boolean> =>
  run("sh", ["-c", `command -v ${tool}`]).then(
    () => true,
    () => false,
  );

/** Why this host cannot run the guest, or undefined when it can. */
const missing = async (): Promise<string | undefined> => {
  if (!existsSync(join(VM_DIR, "vm.sh")))
    return `${VM_DIR}/vm.sh is not here (../shared/vm/ beside the checkout)`;
  if (process.getuid?.() !== 0) return "building the guest image needs root (debootstrap)";
  for (const t of ["qemu-system-x86_64", "qemu-img", "debootstrap"])
    if (!(await which(t))) return `${t} is not installed (scripts/provision.sh installs it)`;
  return undefined;
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const why = await missing();
  if (why) {
    project.provide("vm", { unavailable: why });
    return async () => {};
  }
  const stage = stageNook();
  const name = `nook-vmtest-${process.pid}`;
  const vm = join(VM_DIR, "vm.sh");
  try {
    const fixtures = await buildFixtures();
    copyFileSync(join(fixtures, "busybox-docker.tar"), join(stage, "busybox-docker.tar"));
    // The image is built once per machine (a minute or two) and reused; the first
    // start saves a booted state (about a minute), later ones restore it.
    await run("bash", [join(VM_DIR, "build-image.sh")], { maxBuffer: 1 << 24, timeout: 900_000 });
    await run(vm, ["start", "--name", name, "--project", stage], { maxBuffer: 1 << 24, timeout: 600_000 });
    await run(
      vm,
      [
        "exec",
        "--name",
        name,
        "--",
        "node",
        "/project/dist/nook",
        "load",
        "-q",
        "-i",
        "/project/busybox-docker.tar",
      ],
      {
        timeout: 300_000,
      },
    );
  } catch (e) {
    await run(vm, ["stop", "--name", name]).catch(() => undefined);
    unstage(stage);
    throw e;
  }
  project.provide("vm", { name });
  return async () => {
    await run(vm, ["stop", "--name", name]).catch(() => undefined);
    unstage(stage);
  };
}
