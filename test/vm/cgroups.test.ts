// Limits enforced by the kernel, in the systemd guest (setup.ts): with the
// systemd manager (a scope of the user manager) and with cgroupfs (nook run
// from inside a delegated scope with the user bus out of reach, as under su
// or a batch job), as the guest's unprivileged user.
import { expect, it } from "vitest";
import { describeInVm, keyValues, vmRun } from "./vm.js";

const N = "node /project/dist/nook";
/** The cgroup of a container, from nook inspect. */
const CG = `cg() { ${N} inspect "$1" | sed -n 's/.*"CgroupParent": "\\(.*\\)".*/\\1/p'; }`;

const managers = {
  systemd: (script: string) => script,
  // A delegated scope of the user's own, then no bus: nook must write the cgroups itself.
  cgroupfs: (script: string) =>
    `systemd-run --user --scope -q -p Delegate=yes -- env -u DBUS_SESSION_BUS_ADDRESS -u XDG_RUNTIME_DIR sh -s <<'NOOK_EOF'\n${script}\nNOOK_EOF\n`,
} as const;

describeInVm("cgroup limits in the systemd guest", () => {
  for (const [manager, wrap] of Object.entries(managers)) {
    it(`${manager}: OOM kill, exec in the cgroup, stats, update, and nothing left after rm`, async () => {
      const r = await vmRun(
        wrap(`
${CG}
${N} info | sed -n 's/^  cgroup manager: \\([a-z]*\\):.*/manager=\\1/p'
${N} run --name oom --network none --memory 64m busybox sh -c 'x=a; while :; do x=$x$x; done'
echo "oom_rc=$?"
${N} inspect oom | sed -n 's/.*"OOMKilled": \\([a-z]*\\).*/oomkilled=\\1/p'
echo "ps=$(${N} ps -a --filter name=oom | tail -1 | grep -o 'Exited (137).*(OOM killed)')"
${N} rm oom >/dev/null
${N} run -d --name lim --network none --memory 64m --pids-limit 32 busybox sleep 1000 >/dev/null
P=$(cg lim)
echo "path=$P"
echo "memory_max=$(cat /sys/fs/cgroup$P/memory.max)"
echo "exec_cgroup=$(${N} exec lim cat /proc/self/cgroup)"
echo "exec_sees=$(${N} exec lim cat /sys/fs/cgroup/memory.max)"
echo "exec_in_procs=$(${N} exec lim sh -c 'cat /sys/fs/cgroup/cgroup.procs | wc -l')"
echo "pid1_cgroup=$(cat /proc/$(${N} inspect lim | sed -n 's/.*"Pid": \\([0-9]*\\).*/\\1/p')/cgroup)"
ID=$(${N} inspect lim | sed -n 's/.*"Id": "\\([0-9a-f]*\\)".*/\\1/p')
echo "monitor_cgroup=$(cat /proc/$(sed -n 's/.*"monitorPid":\\([0-9]*\\).*/\\1/p' $HOME/.local/share/nook/containers/$ID/started.json)/cgroup)"
echo "stats=$(${N} stats --no-stream --format json lim)"
${N} update --memory 128m lim >/dev/null && echo "updated=$(cat /sys/fs/cgroup$P/memory.max)"
${N} rm -f lim >/dev/null
test -e /sys/fs/cgroup$P && echo "left=yes" || echo "left=no"
`),
      );
      const kv = keyValues(r.stdout);
      expect(r.stderr).toBe("");
      expect(kv.manager).toBe(manager);
      expect(kv.oom_rc).toBe("137");
      expect(kv.oomkilled).toBe("true");
      expect(kv.ps).toMatch(/^Exited \(137\) .* \(OOM killed\)$/);
      expect(kv.path).toMatch(
        manager === "systemd" ? /\/nook\.slice\/nook-[0-9a-f]{64}\.scope$/ : /\/nook-[0-9a-f]{12}$/,
      );
      expect(kv.memory_max).toBe(String(64 * 1024 * 1024));
      // exec joins the container's cgroup and its cgroup namespace (rooted there, as Docker's on v2),
      // whose /sys/fs/cgroup shows the container's own limits; pid 1 plus the exec'd sh and cat.
      expect(kv.exec_cgroup).toBe("0::/");
      expect(kv.exec_sees).toBe(String(64 * 1024 * 1024));
      expect(Number(kv.exec_in_procs)).toBeGreaterThanOrEqual(3);
      // pid 1 is in the cgroup; the monitor is not under the container's limits.
      expect(kv.pid1_cgroup).toBe(`0::${kv.path}`);
      expect(kv.monitor_cgroup).toMatch(/^0::\//);
      expect(kv.monitor_cgroup).not.toBe(`0::${kv.path}`);
      expect(JSON.parse(kv.stats ?? "{}")).toMatchObject({
        Name: "lim",
        MemUsage: expect.stringMatching(/ \/ 64MiB$/),
      });
      expect(kv.updated).toBe(String(128 * 1024 * 1024));
      expect(kv.left).toBe("no");
    });

    it(`${manager}: --pids-limit stops a fork bomb at 32 tasks, --cpus 0.5 gives half a CPU, --cpuset-cpus pins`, async () => {
      const r = await vmRun(
        wrap(`
${CG}
${N} run -d --name bomb --network none --pids-limit 32 busybox sh -c 'b() { b | b & }; b; sleep 1000' >/dev/null
sleep 5
P=$(cg bomb)
echo "pids_max=$(cat /sys/fs/cgroup$P/pids.max)"
echo "pids_current=$(cat /sys/fs/cgroup$P/pids.current)"
echo "pids_refused=$(sed -n 's/^max //p' /sys/fs/cgroup$P/pids.events)"
${N} rm -f bomb >/dev/null
echo "responsive=$(${N} run --rm --network none busybox echo yes)"
${N} run -d --name busy --network none --cpus 0.5 --cpuset-cpus 0 busybox sh -c 'grep Cpus_allowed_list /proc/self/status; while :; do :; done' >/dev/null
P=$(cg busy)
sleep 1
a=$(sed -n 's/^usage_usec //p' /sys/fs/cgroup$P/cpu.stat); t0=$(date +%s%N)
sleep 4
b=$(sed -n 's/^usage_usec //p' /sys/fs/cgroup$P/cpu.stat); t1=$(date +%s%N)
echo "cpu_max=$(cat /sys/fs/cgroup$P/cpu.max)"
echo "cpu_share=$(( (b - a) * 1000 / ((t1 - t0) / 1000) ))"
echo "cpuset=$(cat /sys/fs/cgroup$P/cpuset.cpus.effective)"
echo "inside=$(${N} logs busy)"
${N} rm -f busy >/dev/null
`),
      );
      const kv = keyValues(r.stdout);
      expect(r.stderr).toBe("");
      expect(kv.pids_max).toBe("32");
      expect(Number(kv.pids_current)).toBeLessThanOrEqual(32);
      expect(Number(kv.pids_current)).toBeGreaterThan(20);
      expect(Number(kv.pids_refused)).toBeGreaterThan(0);
      expect(kv.responsive).toBe("yes");
      expect(kv.cpu_max).toBe("50000 100000");
      // Per mille of one CPU over 4 s: about half.
      expect(Number(kv.cpu_share)).toBeGreaterThan(350);
      expect(Number(kv.cpu_share)).toBeLessThan(600);
      expect(kv.cpuset).toBe("0");
      expect(kv.inside).toBe("Cpus_allowed_list:\t0");
    });
  }

  it("names the problem where no cgroup is delegated and no user bus answers, and runs without limits there", async () => {
    // The guest's agent runs commands in a root-owned system service cgroup, as an ssh session would be.
    const r = await vmRun(`
env -u DBUS_SESSION_BUS_ADDRESS -u XDG_RUNTIME_DIR ${N} run --rm --network none --memory 64m busybox true
echo "rc=$?"
echo "plain=$(env -u DBUS_SESSION_BUS_ADDRESS -u XDG_RUNTIME_DIR ${N} run --rm --network none busybox echo ran)"
`);
    expect(r.stderr.split("\n")[0]).toMatch(
      /^nook: --memory cannot be enforced: no systemd user bus, and nook's cgroup \/system\.slice\/\S+ is not delegated to uid 1000$/,
    );
    expect(r.stderr.split("\n")[1]).toMatch(/^hint: .*loginctl enable-linger.*Delegate=yes/);
    expect(keyValues(r.stdout)).toMatchObject({ rc: "125", plain: "ran" });
  });
});
