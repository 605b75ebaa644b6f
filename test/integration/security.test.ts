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

  it("refuses an unknown --security-opt in one line", async () => {
    const r = await s.nook(["run", "--rm", "--security-opt", "no-new-privileges=maybe", bb(), "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(
      "nook: --security-opt no-new-privileges=maybe: no-new-privileges takes true or false\n",
    );
  });
});
