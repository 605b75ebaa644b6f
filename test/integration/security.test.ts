// Security defaults as the unprivileged test users: no_new_privs,
// capabilities, the seccomp filter, --privileged, masks, sysctls. What the
// container may do is asked from inside it, by test/support/probe.c (built
// static here) and the image's busybox.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";

const bb = (): string => `${inject("registry")}/busybox`;
const repoRoot = join(fileURLToPath(import.meta.url), "..", "..", "..");
/** An image of the probe, setuid root, and the host's static busybox (see MAKE_IMAGE). */
const SUID_IMAGE = "localhost/nook-test/suid:latest";

/**
 * A docker-archive with one layer: /probe owned by 0:0 with mode 4755, and
 * busybox with sh and sleep. Python's tarfile writes the owners as given
 * whoever runs it; nook unpacks them onto the user's subordinate ids.
 */
const MAKE_IMAGE = `
import hashlib, io, json, sys, tarfile
probe, busybox, out, tag = sys.argv[1:5]
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
    def add(name, path, mode):
        info = t.gettarinfo(path, name)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = mode
        with open(path, "rb") as f:
            t.addfile(info, f)
    for d in ("bin", "tmp"):
        info = tarfile.TarInfo(d); info.type = tarfile.DIRTYPE; info.mode = 0o1777 if d == "tmp" else 0o755
        t.addfile(info)
    add("probe", probe, 0o4755)
    add("bin/busybox", busybox, 0o755)
    for name in ("sh", "sleep", "id", "cat", "grep"):
        info = tarfile.TarInfo("bin/" + name); info.type = tarfile.SYMTYPE; info.linkname = "busybox"
        t.addfile(info)
data = layer.getvalue()
diff = hashlib.sha256(data).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
    "config": {"Cmd": ["/probe", "ids"], "Env": ["PATH=/bin"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff]}}).encode()
cid = hashlib.sha256(config).hexdigest()
manifest = json.dumps([{"Config": cid + ".json", "RepoTags": [tag], "Layers": [diff + "/layer.tar"]}]).encode()
with tarfile.open(out, "w") as t:
    for name, blob in ((diff + "/layer.tar", data), (cid + ".json", config), ("manifest.json", manifest)):
        info = tarfile.TarInfo(name); info.size = len(blob); info.mode = 0o644
        t.addfile(info, io.BytesIO(blob))
`;

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
    execFileSync("python3", [
      join(work, "make-image.py"),
      probe,
      "/bin/busybox",
      join(work, "suid.tar"),
      SUID_IMAGE,
    ]);
    chmodSync(join(work, "suid.tar"), 0o644);
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
    const loaded = await s.nook(["load", "-q", "-i", join(work, "suid.tar")]);
    expect(loaded.stderr).toBe("");
    expect(loaded.code).toBe(0);
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
