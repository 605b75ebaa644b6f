// Security defaults as the unprivileged test users: no_new_privs,
// capabilities, the seccomp filter, --privileged, masks, sysctls. What the
// container may do is asked from inside it, by test/support/probe.c (built
// static here) and the image's busybox.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";

const bb = (): string => `${inject("registry")}/busybox`;
const repoRoot = join(fileURLToPath(import.meta.url), "..", "..", "..");
/** An image of the probe, setuid root, and the host's static busybox. */
const SUID_IMAGE = "localhost/nook-test/suid:latest";

/**
 * A docker-archive of one layer, its entries given as [name, kind, source or
 * link target, mode]: Python's tarfile writes owner 0:0 whoever runs it, and
 * nook unpacks that onto the user's subordinate ids.
 */
const MAKE_IMAGE = `
import hashlib, io, json, sys, tarfile
spec, out, tag = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name, kind, arg, mode in spec:
        if kind == "file":
            info = t.gettarinfo(arg, name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = mode
            with open(arg, "rb") as f:
                t.addfile(info, f)
        else:
            info = tarfile.TarInfo(name)
            info.mode = mode
            if kind == "dir":
                info.type = tarfile.DIRTYPE
            else:
                info.type = tarfile.SYMTYPE
                info.linkname = arg
            t.addfile(info)
data = layer.getvalue()
diff = hashlib.sha256(data).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff]}}).encode()
cid = hashlib.sha256(config).hexdigest()
manifest = json.dumps([{"Config": cid + ".json", "RepoTags": [tag], "Layers": [diff + "/layer.tar"]}]).encode()
with tarfile.open(out, "w") as t:
    for name, blob in ((diff + "/layer.tar", data), (cid + ".json", config), ("manifest.json", manifest)):
        info = tarfile.TarInfo(name)
        info.size = len(blob)
        info.mode = 0o644
        t.addfile(info, io.BytesIO(blob))
`;

/** An image of a merged-/usr Debian with nothing in /usr: the host's is bound there, read-only, to run its programs. */
const HOST_USR_IMAGE = "localhost/nook-test/host-usr:latest";
const HOST_USR = [
  ["usr", "dir", "", 0o755],
  ["etc", "dir", "", 0o755],
  ["var", "dir", "", 0o755],
  ["tmp", "dir", "", 0o1777],
  ["bin", "link", "usr/bin", 0o777],
  ["sbin", "link", "usr/sbin", 0o777],
  ["lib", "link", "usr/lib", 0o777],
  ["lib64", "link", "usr/lib64", 0o777],
];

describeAs("sub", "security defaults", (user) => {
  let s: TestStore;
  /** A directory the test user can read: the probe and the image archive. */
  let work: string;
  let probe: string;
  beforeAll(async () => {
    s = await freshStore(user());
    work = mkdtempSync("/tmp/nook-sec-");
    chmodSync(work, 0o755);
    probe = join(work, "probe");
    execFileSync("gcc", ["-static", "-O2", "-o", probe, join(repoRoot, "test", "support", "probe.c")]);
    chmodSync(probe, 0o755);
    writeFileSync(join(work, "make-image.py"), MAKE_IMAGE);
    const image = async (tag: string, entries: (string | number)[][]): Promise<void> => {
      const archive = join(work, `${tag.replace(/\W/g, "_")}.tar`);
      execFileSync("python3", [join(work, "make-image.py"), JSON.stringify(entries), archive, tag]);
      chmodSync(archive, 0o644);
      const loaded = await s.nook(["load", "-q", "-i", archive]);
      expect(loaded.stderr).toBe("");
      expect(loaded.code).toBe(0);
    };
    await image(SUID_IMAGE, [
      ["bin", "dir", "", 0o755],
      ["tmp", "dir", "", 0o1777],
      ["probe", "file", probe, 0o4755],
      ["bin/busybox", "file", "/bin/busybox", 0o755],
      ...["sh", "sleep", "id", "cat", "grep"].map((n) => [`bin/${n}`, "link", "busybox", 0o777]),
    ]);
    await image(HOST_USR_IMAGE, HOST_USR);
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
  });
  afterAll(async () => {
    await s.remove();
    rmSync(work, { recursive: true, force: true });
  });

  const ids = (out: string): { uid: string; euid: string; nnp: string } => {
    const m = /uid=(\d+) euid=(\d+)/.exec(out);
    return { uid: m?.[1] ?? "", euid: m?.[2] ?? "", nnp: /NoNewPrivs:\s+(\d)/.exec(out)?.[1] ?? "" };
  };

  it("lets a setuid-root program raise a non-root user to container root, unless no-new-privileges", async () => {
    const plain = await s.nook(["run", "--rm", "-u", "1000", SUID_IMAGE, "/probe", "ids"]);
    expect(plain.stderr).toBe("");
    expect(ids(plain.stdout)).toEqual({ uid: "1000", euid: "0", nnp: "0" });
    const nnp = await s.nook([
      "run",
      "--rm",
      "-u",
      "1000",
      "--security-opt",
      "no-new-privileges",
      SUID_IMAGE,
      "/probe",
      "ids",
    ]);
    expect(nnp.stderr).toBe("");
    expect(ids(nnp.stdout)).toEqual({ uid: "1000", euid: "1000", nnp: "1" });
  });

  it("gives nook exec processes the container's no_new_privs", async () => {
    for (const [opts, want] of [
      [[], { uid: "1000", euid: "0", nnp: "0" }],
      [["--security-opt", "no-new-privileges:true"], { uid: "1000", euid: "1000", nnp: "1" }],
    ] as const) {
      const started = await s.nook(["run", "-d", ...opts, SUID_IMAGE, "sleep", "60"]);
      expect(started.stderr).toBe("");
      const id = started.stdout.trim();
      try {
        const r = await s.nook(["exec", "-u", "1000", id, "/probe", "ids"]);
        expect(r.stderr).toBe("");
        expect(ids(r.stdout)).toEqual(want);
      } finally {
        await s.nook(["rm", "-f", id]);
      }
    }
  });

  /** CapInh, CapPrm, CapEff, CapBnd, CapAmb from /proc/self/status, as hex. */
  const caps = (out: string): Record<string, string> =>
    Object.fromEntries([...out.matchAll(/^Cap(\w+):\s+([0-9a-f]+)$/gm)].map((m) => [m[1], m[2]]));
  /** Podman's rootless default: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP. */
  const DEFAULT = "00000000800405fb";
  const NONE = "0000000000000000";

  it("gives container root the default capabilities, and a non-root user none but the bounding set", async () => {
    const root = await s.nook(["run", "--rm", bb(), "grep", "^Cap", "/proc/self/status"]);
    expect(root.stderr).toBe("");
    expect(caps(root.stdout)).toEqual({ Inh: NONE, Prm: DEFAULT, Eff: DEFAULT, Bnd: DEFAULT, Amb: NONE });
    const user = await s.nook(["run", "--rm", "-u", "1000", bb(), "grep", "^Cap", "/proc/self/status"]);
    expect(caps(user.stdout)).toEqual({ Inh: NONE, Prm: NONE, Eff: NONE, Bnd: DEFAULT, Amb: NONE });
    // The setuid-root probe is root again, with the bounding set.
    const raised = await s.nook(["run", "--rm", "-u", "1000", SUID_IMAGE, "/probe", "ids"]);
    expect(caps(raised.stdout)).toMatchObject({ Prm: DEFAULT, Eff: DEFAULT, Bnd: DEFAULT });
  });

  it("adds and drops capabilities by any spelling of their names", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "--cap-add",
      "cap_net_admin",
      "--cap-add",
      "Net_Raw",
      "--cap-drop",
      "CAP_KILL",
      bb(),
      "grep",
      "^Cap",
      "/proc/self/status",
    ]);
    expect(r.stderr).toBe("");
    // + NET_ADMIN (12) and NET_RAW (13), - KILL (5)
    const want = (0x800405fbn + (1n << 12n) + (1n << 13n) - (1n << 5n)).toString(16).padStart(16, "0");
    expect(caps(r.stdout)).toMatchObject({ Prm: want, Eff: want, Bnd: want });
  });

  it("leaves container root unable to chown with --cap-drop ALL, and lets it mount a tmpfs with --cap-add SYS_ADMIN", async () => {
    const chown = "touch /tmp/f && chown 1000 /tmp/f && echo chowned";
    const ok = await s.nook(["run", "--rm", bb(), "sh", "-c", chown]);
    expect(ok.stdout).toBe("chowned\n");
    const dropped = await s.nook(["run", "--rm", "--cap-drop", "ALL", bb(), "sh", "-c", chown]);
    expect(dropped.code).toBe(1);
    expect(dropped.stderr).toMatch(/chown: \/tmp\/f: Operation not permitted/);
    expect(
      caps(
        (await s.nook(["run", "--rm", "--cap-drop", "all", bb(), "grep", "^Cap", "/proc/self/status"]))
          .stdout,
      ),
    ).toEqual({ Inh: NONE, Prm: NONE, Eff: NONE, Bnd: NONE, Amb: NONE });

    const mount = "mkdir -p /m && mount -t tmpfs none /m && grep ' /m ' /proc/mounts | cut -d' ' -f3";
    const refused = await s.nook(["run", "--rm", bb(), "sh", "-c", mount]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/permission denied \(are you root\?\)/); // busybox, for EPERM
    const mounted = await s.nook(["run", "--rm", "--cap-add", "SYS_ADMIN", bb(), "sh", "-c", mount]);
    expect(mounted.stderr).toBe("");
    expect(mounted.stdout).toBe("tmpfs\n");
  });

  it("gives nook exec processes the container's capabilities", async () => {
    const started = await s.nook(["run", "-d", "--cap-drop", "CHOWN", bb(), "sleep", "60"]);
    const id = started.stdout.trim();
    try {
      const want = (0x800405fbn - 1n).toString(16).padStart(16, "0");
      const root = await s.nook(["exec", id, "grep", "^Cap", "/proc/self/status"]);
      expect(root.stderr).toBe("");
      expect(caps(root.stdout)).toEqual({ Inh: NONE, Prm: want, Eff: want, Bnd: want, Amb: NONE });
      const user = await s.nook(["exec", "-u", "1000", id, "grep", "^Cap", "/proc/self/status"]);
      expect(caps(user.stdout)).toEqual({ Inh: NONE, Prm: NONE, Eff: NONE, Bnd: want, Amb: NONE });
    } finally {
      await s.nook(["rm", "-f", id]);
    }
  });

  it("confines the --init process as its command", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "--init",
      "--cap-drop",
      "ALL",
      bb(),
      "grep",
      "^Cap",
      "/proc/1/status",
    ]);
    expect(r.stderr).toBe("");
    expect(caps(r.stdout)).toEqual({ Inh: NONE, Prm: NONE, Eff: NONE, Bnd: NONE, Amb: NONE });
  });

  const probeIn = (): string[] => ["-v", `${probe}:/probe:ro`];
  const SYSCALLS = ["keyctl", "add_key", "bpf", "perf_event_open", "mount", "unshare", "clone3", "future"];
  const answers = (out: string): Record<string, string> =>
    Object.fromEntries(
      out
        .trim()
        .split("\n")
        .map((l) => l.split("=") as [string, string]),
    );

  it("filters syscalls by default: keyrings, bpf, perf events, mount and unshare fail with EPERM", async () => {
    const r = await s.nook(["run", "--rm", ...probeIn(), bb(), "/probe", "syscall", ...SYSCALLS]);
    expect(r.stderr).toBe("");
    expect(answers(r.stdout)).toEqual({
      keyctl: "EPERM",
      add_key: "EPERM",
      bpf: "EPERM",
      perf_event_open: "EPERM",
      mount: "EPERM",
      unshare: "EPERM",
      // so that the C library falls back to clone, whose flags the filter checks
      clone3: "ENOSYS",
      // a syscall newer than nook: missing, not refused
      future: "ENOSYS",
    });
    const status = await s.nook(["run", "--rm", bb(), "grep", "^Seccomp:", "/proc/self/status"]);
    expect(status.stdout).toBe("Seccomp:\t2\n");
  });

  it("lets the kernel answer without a filter (seccomp=unconfined), and opens mount and unshare to CAP_SYS_ADMIN", async () => {
    const open = await s.nook([
      "run",
      "--rm",
      "--security-opt",
      "seccomp=unconfined",
      ...probeIn(),
      bb(),
      "sh",
      "-c",
      "grep ^Seccomp: /proc/self/status; /probe syscall keyctl add_key perf_event_open",
    ]);
    expect(open.stderr).toBe("");
    // The filter's EPERMs above were the filter's: here the same calls succeed.
    expect(open.stdout).toBe("Seccomp:\t0\nkeyctl=ok\nadd_key=ok\nperf_event_open=ok\n");
    const admin = await s.nook([
      "run",
      "--rm",
      "--cap-add",
      "SYS_ADMIN",
      ...probeIn(),
      bb(),
      "/probe",
      "syscall",
      "mount",
      "unshare",
      "keyctl",
    ]);
    // ENODEV: the probe mounts a file system type that does not exist, so the kernel got that far.
    expect(answers(admin.stdout)).toEqual({ mount: "ENODEV", unshare: "ok", keyctl: "EPERM" });
  });

  it("runs ordinary programs under the filter: busybox, bash, python3 with threads and subprocesses, apt-get", async () => {
    const py =
      "import subprocess, threading; t = threading.Thread(target=print, args=('thread',)); t.start(); t.join(); print(subprocess.run(['true']).returncode)";
    const r = await s.nook([
      "run",
      "--rm",
      "-v",
      "/usr:/usr:ro",
      HOST_USR_IMAGE,
      "bash",
      "-c",
      `grep ^Seccomp: /proc/self/status; python3 -c "${py}"; apt-get --help | head -1 | cut -d' ' -f1; ls / >/dev/null && echo ls`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("Seccomp:\t2\nthread\n0\napt\nls\n");
  });

  it("takes a profile in Docker's format: one that denies mkdir makes mkdir fail with EPERM", async () => {
    const file = join(work, "no-mkdir.json");
    writeFileSync(
      file,
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", comment: "no new directories" }],
      }),
    );
    chmodSync(file, 0o644);
    const r = await s.nook([
      "run",
      "--rm",
      "--security-opt",
      `seccomp=${file}`,
      bb(),
      "sh",
      "-c",
      "mkdir /tmp/d",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("mkdir: can't create directory '/tmp/d': Operation not permitted\n");
    // The same container again: the profile was kept at create.
    const made = await s.nook(["create", "--security-opt", `seccomp=${file}`, bb(), "mkdir", "/tmp/d"]);
    const id = made.stdout.trim();
    writeFileSync(file, "{}");
    const again = await s.nook(["start", "-a", id]);
    expect(again.stderr).toContain("Operation not permitted");
    await s.nook(["rm", "-f", id]);
  });

  it("refuses a malformed profile in one line that names the field", async () => {
    const file = join(work, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "ALLOW" }] }),
    );
    chmodSync(file, 0o644);
    const r = await s.nook(["run", "--rm", "--security-opt", `seccomp=${file}`, bb(), "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(
      `nook: seccomp profile ${file}: syscalls[0].action: expected SCMP_ACT_*, got "ALLOW"\n`,
    );
    const missing = await s.nook([
      "run",
      "--rm",
      "--security-opt",
      "seccomp=/nonexistent.json",
      bb(),
      "true",
    ]);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toBe("nook: --security-opt seccomp=/nonexistent.json: ENOENT\n");
  });

  it("gives nook exec processes the container's filter", async () => {
    for (const [opts, seccomp, keyctl] of [
      [[], "2", "EPERM"],
      [["--security-opt", "seccomp=unconfined"], "0", "ok"],
    ] as const) {
      const started = await s.nook(["run", "-d", ...opts, ...probeIn(), bb(), "sleep", "60"]);
      const id = started.stdout.trim();
      try {
        const r = await s.nook([
          "exec",
          id,
          "sh",
          "-c",
          "grep ^Seccomp: /proc/self/status; /probe syscall keyctl",
        ]);
        expect(r.stderr).toBe("");
        expect(r.stdout).toBe(`Seccomp:\t${seccomp}\nkeyctl=${keyctl}\n`);
      } finally {
        await s.nook(["rm", "-f", id]);
      }
    }
  });

  it("compiles a profile once: the next container with the same filter reuses it", async () => {
    const cache = join(s.dataHome, "cache");
    const env = { XDG_CACHE_HOME: cache };
    await s.nook(["run", "--rm", bb(), "true"], { env });
    await s.nook(["run", "--rm", "--cap-add", "SYS_ADMIN", bb(), "true"], { env });
    await s.nook(["run", "--rm", bb(), "true"], { env });
    const files = await s.nook(["unshare", "ls", join(cache, "nook", "seccomp")], { env });
    // Two capability sets, two filters: SYS_ADMIN opens the mount and namespace calls.
    expect(files.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^[0-9a-f]{64}\.bpf$/),
      expect.stringMatching(/^[0-9a-f]{64}\.bpf$/),
    ]);
  });

  it("gives --privileged every capability, no filter, no masks, a writable /sys and the user's devices", async () => {
    const last = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8"));
    const all = ((1n << BigInt(last + 1)) - 1n).toString(16).padStart(16, "0");
    const r = await s.nook([
      "run",
      "--rm",
      "--privileged",
      bb(),
      "sh",
      "-c",
      "grep -E '^(Cap|Seccomp:)' /proc/self/status; grep -c ' /proc/keys ' /proc/self/mountinfo; grep ' /sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; ls /dev/fuse /dev/net/tun",
    ]);
    expect(r.stderr).toBe("");
    expect(caps(r.stdout)).toEqual({ Inh: NONE, Prm: all, Eff: all, Bnd: all, Amb: NONE });
    // /dev/fuse and /dev/net/tun are 0666 on the test hosts (scripts/provision.sh).
    expect(r.stdout.replace(/^Cap.*\n/gm, "")).toBe("Seccomp:\t0\n0\nrw\n/dev/fuse\n/dev/net/tun\n");
    const plain = await s.nook([
      "run",
      "--rm",
      bb(),
      "sh",
      "-c",
      "grep -c ' /proc/keys ' /proc/self/mountinfo; grep ' /sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; ls /dev/fuse 2>&1 | grep -c 'No such'",
    ]);
    expect(plain.stdout).toBe("1\nro\n1\n");
  });

  it("hides more paths with mask=, and shows default ones with unmask= (ALL: every one)", async () => {
    const look =
      "wc -c < /etc/group; grep -c ' /proc/keys ' /proc/self/mountinfo; grep -c ' /proc/sys ' /proc/self/mountinfo";
    const masked = await s.nook(["run", "--rm", "--security-opt", "mask=/etc/group", bb(), "sh", "-c", look]);
    expect(masked.stderr).toBe("");
    expect(masked.stdout).toBe("0\n1\n1\n");
    const some = await s.nook(["run", "--rm", "--security-opt", "unmask=/proc/k*", bb(), "sh", "-c", look]);
    expect(some.stdout).toMatch(/^[1-9]\d*\n0\n1\n$/);
    const all = await s.nook(["run", "--rm", "--security-opt", "unmask=ALL", bb(), "sh", "-c", look]);
    expect(all.stdout).toMatch(/^[1-9]\d*\n0\n0\n$/);
  });

  it("accepts label=disable and apparmor=unconfined, and refuses what rootless cannot load", async () => {
    const ok = await s.nook([
      "run",
      "--rm",
      "--security-opt",
      "label=disable",
      "--security-opt",
      "apparmor=unconfined",
      bb(),
      "true",
    ]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const label = await s.nook(["run", "--rm", "--security-opt", "label=type:spc_t", bb(), "true"]);
    expect(label.code).toBe(125);
    expect(label.stderr).toBe(
      "nook: --security-opt label=type:spc_t: rootless nook cannot apply SELinux labels (label=disable is accepted)\n",
    );
    const aa = await s.nook(["run", "--rm", "--security-opt", "apparmor=docker-default", bb(), "true"]);
    expect(aa.code).toBe(125);
    expect(aa.stderr.split("\n")).toHaveLength(2);
  });

  it("sets the namespaced sysctls Docker allows, and refuses the others by name", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "--network",
      "none",
      "--sysctl",
      "kernel.shmmax=1234567",
      "--sysctl",
      "net.ipv4.ip_unprivileged_port_start=80",
      "--sysctl",
      "fs.mqueue.msg_max=20",
      bb(),
      "cat",
      "/proc/sys/kernel/shmmax",
      "/proc/sys/net/ipv4/ip_unprivileged_port_start",
      "/proc/sys/fs/mqueue/msg_max",
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1234567\n80\n20\n");
    const host = await s.nook(["run", "--rm", "--sysctl", "kernel.hostname=x", bb(), "true"]);
    expect(host.code).toBe(125);
    expect(host.stderr).toBe(
      "nook: --sysctl kernel.hostname: not a namespaced sysctl a container may set (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)\n",
    );
    const net = await s.nook([
      "run",
      "--rm",
      "--network",
      "host",
      "--sysctl",
      "net.ipv4.ip_forward=1",
      bb(),
      "true",
    ]);
    expect(net.code).toBe(125);
    expect(net.stderr).toMatch(
      /^nook: --sysctl net.ipv4.ip_forward: the container shares the host's network namespace/,
    );
  });

  it("shows the security settings in nook inspect, in Docker's HostConfig fields and Podman's capability sets", async () => {
    const inspect = async (...args: string[]) => {
      const made = await s.nook(["create", ...args, bb(), "true"]);
      expect(made.stderr).toBe("");
      const id = made.stdout.trim();
      const r = await s.nook(["inspect", id]);
      await s.nook(["rm", id]);
      return (JSON.parse(r.stdout) as Record<string, unknown>[])[0] as {
        EffectiveCaps: string[];
        BoundingCaps: string[];
        HostConfig: Record<string, unknown>;
      };
    };
    const plain = await inspect();
    expect(plain.HostConfig).toMatchObject({
      Privileged: false,
      CapAdd: [],
      CapDrop: [],
      SecurityOpt: ["seccomp=builtin"],
      Sysctls: {},
    });
    expect(plain.EffectiveCaps).toEqual(plain.BoundingCaps);
    expect(plain.BoundingCaps).toHaveLength(11);
    const tuned = await inspect(
      "--cap-add",
      "cap_net_admin",
      "--cap-drop",
      "CHOWN",
      "--security-opt",
      "no-new-privileges",
      "--security-opt",
      "seccomp=unconfined",
      "--sysctl",
      "kernel.shmmax=1",
      "-u",
      "1000",
    );
    expect(tuned.HostConfig).toMatchObject({
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["CHOWN"],
      SecurityOpt: ["no-new-privileges", "seccomp=unconfined"],
      Sysctls: { "kernel.shmmax": "1" },
    });
    expect(tuned.BoundingCaps).toContain("CAP_NET_ADMIN");
    expect(tuned.BoundingCaps).not.toContain("CAP_CHOWN");
    // A non-root user starts with none.
    expect(tuned.EffectiveCaps).toEqual([]);
    const privileged = await inspect("--privileged");
    expect(privileged.HostConfig).toMatchObject({
      Privileged: true,
      SecurityOpt: ["seccomp=unconfined"],
      MaskedPaths: [],
      ReadonlyPaths: [],
    });
    expect(privileged.EffectiveCaps).toHaveLength(
      Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8")) + 1,
    );
  });

  it("refuses unknown capabilities in one line", async () => {
    const r = await s.nook(["run", "--rm", "--cap-add", "NET_ADMINS", bb(), "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("nook: --cap-add NET_ADMINS: no such capability\n");
  });

  it("refuses an unknown --security-opt in one line", async () => {
    const r = await s.nook(["run", "--rm", "--security-opt", "no-new-privileges=maybe", bb(), "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(
      "nook: --security-opt no-new-privileges=maybe: no-new-privileges takes true or false\n",
    );
  });
});
