// Limits on a host that cannot enforce them rootless (cgroup v1 or hybrid, as
// this development machine): containers run, every limit flag fails before
// anything starts with the reason and the fix, and nook info explains. The
// hosts that can enforce them are the vm project's (test/vm/).
import { existsSync } from "node:fs";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";

const bb = (): string => `${inject("registry")}/busybox`;
const hybrid = !existsSync("/sys/fs/cgroup/cgroup.controllers");

describeAs("sub", "limits where cgroups cannot be delegated", (user) => {
  let s: TestStore;
  beforeAll(async () => {
    s = await freshStore(user());
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
  });
  afterAll(async () => s.remove());

  const flags: [string, string][] = [
    ["--memory", "64m"],
    ["--memory-reservation", "32m"],
    ["--cpus", "0.5"],
    ["--cpu-shares", "512"],
    ["--cpuset-cpus", "0"],
    ["--pids-limit", "32"],
    ["--blkio-weight", "300"],
  ];

  it("refuses each limit flag in one line with the reason and the fix, and creates nothing", async (ctx) => {
    if (!hybrid) {
      process.stderr.write(
        "[skipped] refusal of limits: this host has cgroup v2 (test/vm/ covers it there)\n",
      );
      ctx.skip();
    }
    for (const [flag, value] of flags) {
      const r = await s.nook(["run", "--rm", "--network", "none", flag, value, bb(), "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toBe(
        `nook: ${flag} cannot be enforced: this host has cgroup v1 or hybrid cgroups; rootless limits need cgroup v2 (unified)\n` +
          "hint: boot with systemd.unified_cgroup_hierarchy=1 on the kernel command line (Debian 11 and later default to cgroup v2)\n",
      );
    }
    const created = await s.nook(["create", "--name", "limited", "--memory", "64m", bb(), "true"]);
    expect(created.code).toBe(125);
    expect((await s.nook(["ps", "-aq"])).stdout).toBe("");
    const manager = await s.nook(["run", "--rm", "--cgroup-manager", "systemd", bb(), "true"]);
    expect(manager.stderr.split("\n")[0]).toBe(
      "nook: --cgroup-manager systemd: this host has cgroup v1 or hybrid cgroups; rootless limits need cgroup v2 (unified)",
    );
  });

  it("runs containers without limits, and says in nook info why limits are refused", async () => {
    expect((await s.nook(["run", "--rm", "--network", "none", bb(), "echo", "ran"])).stdout).toBe("ran\n");
    const info = (await s.nook(["info"])).stdout;
    if (hybrid) {
      expect(info).toMatch(/^ {2}cgroup manager: none: this host has cgroup v1 or hybrid cgroups/m);
      expect(info).toMatch(
        /^ {2}limits \(--memory, --cpus, --pids-limit\.\.\.\): refused here; fix: boot with/m,
      );
    } else expect(info).toMatch(/^ {2}cgroup manager: (systemd|cgroupfs|none): /m);
  });

  it("refuses bad limit values before looking at the host", async () => {
    const r = await s.nook(["run", "--rm", "--memory", "lots", bb(), "true"]);
    expect(r).toMatchObject({
      code: 125,
      stderr: "nook: --memory takes a size (512m, 2g, 1048576), not lots\n",
    });
    const u = await s.nook(["update", "--cpus", "0", "nosuch"]);
    expect(u).toMatchObject({ code: 125, stderr: "nook: --cpus takes a positive number (1.5), not 0\n" });
  });
});
