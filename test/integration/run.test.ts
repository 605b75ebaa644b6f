// nook run as the unprivileged test users, with fixture images from the test
// registry. What the container sees is asserted from inside it, with the
// image's own busybox.
import { createHash, randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, descendants, nookBin, runAs, running } from "../support/nook.js";
import { dumpTree, expectLayersStack, freshStore, type TestStore, type TreeEntry } from "../support/store.js";
import { isRoot } from "../support/users.js";

const bb = (): string => `${inject("registry")}/busybox`;
const layersImage = (): string => `${inject("registry")}/layers`;

describeAs("sub", "nook run, user with subordinate ranges", (user) => {
  let s: TestStore;
  beforeAll(async () => {
    s = await freshStore(user());
    for (const image of [bb(), layersImage()]) expect((await s.nook(["pull", "-q", image])).code).toBe(0);
  });
  afterAll(async () => s.remove());

  it("runs the command as pid 1 of its own namespaces and passes its exit status on", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "--hostname",
      "box",
      bb(),
      "sh",
      "-c",
      "echo pid=$$; hostname; ls /proc | grep -c '^[0-9]'; cat /proc/self/uid_map; exit 3",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(3);
    const [pid, host, procs, map1, map2] = r.stdout.trim().split("\n");
    expect(pid).toBe("pid=1");
    expect(host).toBe("box");
    // sh and the ls/grep it runs: nothing of the host's.
    expect(Number(procs)).toBeLessThanOrEqual(3);
    const [subStart, subCount] = user().subuid!.split(":");
    expect(map1?.trim().split(/\s+/)).toEqual(["0", String(user().uid), "1"]);
    expect(map2?.trim().split(/\s+/)).toEqual(["1", subStart, subCount]);
  });

  it("runs a small init as pid 1 with --init, which reaps orphans and passes the status on", async () => {
    // The orphaned sleep is re-parented to pid 1; without an init that reaps,
    // pid 1 here (exec'd sleep) would leave it a zombie.
    const r = await s.nook([
      "run",
      "--rm",
      "--init",
      bb(),
      "sh",
      "-c",
      "echo pid=$$; (sleep 0.1 &); sleep 0.5; cat /proc/1/comm; grep -l '^State:.*Z' /proc/[0-9]*/status | wc -l; exit 5",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(5);
    expect(r.stdout.trim().split("\n")).toEqual(["pid=2", "nook-helper", "0"]);
  });

  it("leaves no_new_privs off (as Docker does), masks /proc/keys and keeps /proc/sys read-only", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      bb(),
      "sh",
      "-c",
      "grep NoNewPrivs /proc/self/status; wc -c < /proc/keys; echo x > /proc/sys/kernel/hostname || echo ro",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, 3)).toEqual(["NoNewPrivs:\t0", "0", "ro"]);
  });

  for (const driver of ["overlay", "fuse-overlayfs", "copy"]) {
    const run = (args: string[]): ReturnType<TestStore["nook"]> =>
      s.nook(["run", "--storage-driver", driver, ...args]);

    it(`${driver}: shows the image's owners and modes, and runs as the image's user in its workdir`, async () => {
      const r = await run([
        "--rm",
        layersImage(),
        "sh",
        "-c",
        "id -u; id -g; pwd; stat -c '%u:%g %a %n' /data/app-file /data/daemon-file /data/setuid /data/nobody-file",
      ]);
      expect(r.stderr).toBe("");
      expect(r.stdout.trim().split("\n")).toEqual([
        "1000",
        "1000",
        "/data",
        "1000:1000 600 /data/app-file",
        "1:1 640 /data/daemon-file",
        "0:0 4755 /data/setuid",
        "65534:65534 644 /data/nobody-file",
      ]);
    });

    it(`${driver}: runs as -u 1000, whose new files are owned by 1000 inside`, async () => {
      const r = await run([
        "--rm",
        "-u",
        "1000",
        bb(),
        "sh",
        "-c",
        "touch /tmp/f && stat -c %u:%g /tmp/f && id -u",
      ]);
      expect(r.stdout).toBe("1000:1000\n1000\n");
    });

    it(`${driver}: writes into the container's own layer, never into the image's`, async () => {
      const r = await run([bb(), "sh", "-c", "echo new > /bin/added && rm /bin/ls"]);
      expect(r.code).toBe(0);
      const containers = await dumpTree(s, join(s.dataHome, "nook", "containers"));
      // The copy driver's container layer is its copy of the image (merged/).
      const own = driver === "copy" ? "merged" : "upper";
      const upper = containers.filter((e) => new RegExp(`^[0-9a-f]{64}/${own}/bin/`).test(e.path));
      expect(upper.find((e) => e.path.endsWith("/bin/added"))?.content).toBe("new\n");
      if (driver === "copy") expect(upper.some((e) => e.path.endsWith("/bin/ls"))).toBe(false);
      else expect(upper.find((e) => e.path.endsWith("/bin/ls"))?.type).toBe("char"); // an overlay whiteout
      // The image is as it was.
      const again = await run(["--rm", bb(), "sh", "-c", "ls /bin/ls && ls /bin/added 2>&1 || true"]);
      expect(again.stdout).toMatch(/^\/bin\/ls\n.*No such file/);
      await s.nook(["unshare", "rm", "-rf", join(s.dataHome, "nook", "containers")]);
    });
  }

  it("copy: builds the image's tree with its whiteouts and opaque directory, and leaves the layers as they were", async () => {
    const containers = join(s.dataHome, "nook", "containers");
    const layers = join(s.dataHome, "nook", "layers");
    const before = await dumpTree(s, layers);
    const edit =
      "rm /data/root-file && echo changed > /data/layer4 && touch /data/opaque/made && chmod 700 /data/sticky";
    const edited = await s.nook([
      "run",
      "--storage-driver",
      "copy",
      "-u",
      "0",
      layersImage(),
      "sh",
      "-c",
      edit,
    ]);
    expect(edited.stderr).toBe("");
    expect(edited.code).toBe(0);
    expect((await s.nook(["run", "--storage-driver", "copy", layersImage(), "true"])).code).toBe(0);
    expect(await dumpTree(s, layers)).toEqual(before);

    const tree = await dumpTree(s, containers);
    const mergedOf = (id: string): Map<string, TreeEntry> =>
      new Map(
        tree
          .filter((e) => e.path.startsWith(`${id}/merged/`))
          .map((e) => [e.path.slice(`${id}/merged/`.length), e]),
      );
    const ids = tree.filter((e) => !e.path.includes("/")).map((e) => e.path);
    expect(ids).toHaveLength(2);
    const [one, two] = ids.map(mergedOf) as [Map<string, TreeEntry>, Map<string, TreeEntry>];
    const [changed, fresh] = one.get("data/layer4")?.content === "changed\n" ? [one, two] : [two, one];
    expectLayersStack(inject("fixtures"), fresh);
    // No whiteout of either form, and no opaque marker, made it into the tree.
    const markers = [...fresh].filter(
      ([p, e]) => /(^|\/)\.wh\./.test(p) || e.type === "char" || e.xattrs?.["user.overlay.opaque"],
    );
    expect(markers.map(([p]) => p)).toEqual([]);
    expect(changed.has("data/root-file")).toBe(false);
    expect(changed.get("data/hardlink")).toMatchObject({ type: "file", nlink: 1 });
    expect(changed.get("data/opaque/made")).toMatchObject({ type: "file" });
    expect(changed.get("data/sticky")).toMatchObject({ mode: 0o700 });
    await s.nook(["unshare", "rm", "-rf", containers]);
  });

  it("binds host directories read-write and read-only", async () => {
    const dir = (await runAs(user(), ["mktemp", "-d", "/tmp/nook-vol-XXXXXX"])).stdout.trim();
    try {
      await runAs(user(), ["sh", "-c", `echo host > ${dir}/in`]);
      const r = await s.nook([
        "run",
        "--rm",
        "-v",
        `${dir}:/rw`,
        "-v",
        `${dir}:/ro:ro`,
        bb(),
        "sh",
        "-c",
        "cat /rw/in; echo ctr > /rw/out; echo x > /ro/nope || echo refused",
      ]);
      expect(r.stdout).toBe("host\nrefused\n");
      expect(readFileSync(join(dir, "out"), "utf8")).toBe("ctr\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("picks a storage driver by mounting an overlay once, and keeps the answer per kernel", async () => {
    const cache = join(s.dataHome, "nook", "driver.json");
    await runAs(user(), ["rm", "-f", cache]);
    const rootType = ["sh", "-c", "grep ' / ' /proc/mounts | cut -d' ' -f3"];
    const first = await s.nook(["run", "--rm", bb(), ...rootType]);
    expect(first.stderr).toBe("");
    const chosen = JSON.parse(readFileSync(cache, "utf8")) as { kernel: string; driver: string };
    expect(chosen.kernel).toBe(release());
    // Upstream Linux mounts overlayfs in a user namespace since 5.11.
    const [major = 0, minor = 0] = release().split(".").map(Number);
    const overlay = major > 5 || (major === 5 && minor >= 11);
    expect(chosen.driver).toBe(overlay ? "overlay" : "fuse-overlayfs");
    expect(first.stdout).toBe(overlay ? "overlay\n" : "fuse.fuse-overlayfs\n");
    // What is remembered is what runs: said fuse-overlayfs, the root is fuse-overlayfs.
    await runAs(user(), [
      "sh",
      "-c",
      `printf '{"kernel":"${release()}","driver":"fuse-overlayfs"}' > ${cache}`,
    ]);
    const fuse = await s.nook(["run", "--rm", bb(), ...rootType]);
    expect(fuse.stdout).toBe("fuse.fuse-overlayfs\n");
    await runAs(user(), ["rm", "-f", cache]);
  });

  it("takes --mount's bind and tmpfs forms", async () => {
    const dir = (await runAs(user(), ["mktemp", "-d", "/tmp/nook-mnt-XXXXXX"])).stdout.trim();
    try {
      await runAs(user(), ["sh", "-c", `echo host > ${dir}/in`]);
      const r = await s.nook([
        "run",
        "--rm",
        "--mount",
        `type=bind,source=${dir},target=/m,readonly`,
        "--mount",
        "type=tmpfs,target=/scratch,tmpfs-mode=700",
        bb(),
        "sh",
        "-c",
        "cat /m/in; (echo x > /m/out) 2>/dev/null || echo ro; grep ' /scratch ' /proc/mounts | cut -d' ' -f3; stat -c %a /scratch",
      ]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("host\nro\ntmpfs\n700\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("streams stdin with -i, binary-safe", async () => {
    const dir = mkdtempSync("/tmp/nook-bin-");
    chmodSync(dir, 0o755);
    const data = randomBytes(300_000);
    writeFileSync(join(dir, "data"), data);
    chmodSync(join(dir, "data"), 0o644);
    try {
      const cmd = `XDG_DATA_HOME=${s.dataHome} ${process.execPath} ${nookBin()} run --rm -i ${bb()} cat < ${dir}/data | sha256sum`;
      const r = await runAs(user(), ["sh", "-c", cmd]);
      expect(r.stdout.split(" ")[0]).toBe(createHash("sha256").update(data).digest("hex"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the container a terminal with -t: a tty of the caller's size from its own devpts, TERM set", async () => {
    // tty(1) prints ttyname(0): a path that must exist in the container's /dev/pts;
    // /dev/console is that same terminal, as runc and crun make it.
    const inside = `test -t 0 && echo tty; stty size; echo TERM=$TERM; t=$(tty); test -e $t && echo $t; stat -c %t:%T $t /dev/console | xargs; exit 4`;
    const cmd = `XDG_DATA_HOME=${s.dataHome} ${process.execPath} ${nookBin()} run --rm -t ${bb()} sh -c '${inside}'`;
    // script(1) runs nook on a pty of its own, as a person's terminal would.
    const r = await runAs(user(), ["script", "-qec", `stty rows 33 cols 77; ${cmd}`, "/dev/null"]);
    expect(r.stdout.replace(/\r/g, "").trim().split("\n")).toEqual([
      "tty",
      "33 77",
      "TERM=xterm",
      "/dev/pts/0",
      "88:0 88:0", // devpts' major, 136, both
    ]);
    expect(r.code).toBe(4);
  });

  it("runs an interactive shell with -it, following the window's size", async () => {
    const u = user();
    const session = `nook-it-${process.pid}`;
    const out = join(mkdtempSync("/tmp/nook-tmux-"), "exit");
    chmodSync(join(out, ".."), 0o777);
    const shell = `XDG_DATA_HOME=${s.dataHome} HOME=${u.home} TERM=xterm ${process.execPath} ${nookBin()} run --rm -it --hostname box ${bb()} sh; echo $? > ${out}`;
    const tmux = (...args: string[]) => runAs(u, ["tmux", "-L", session, ...args]);
    try {
      await tmux("new-session", "-d", "-x", "100", "-y", "30", shell);
      const screen = async (want: RegExp): Promise<string> => {
        for (let i = 0; i < 100; i++) {
          const text = (await tmux("capture-pane", "-p")).stdout;
          if (want.test(text)) return text;
          await new Promise((r) => setTimeout(r, 100));
        }
        return (await tmux("capture-pane", "-p")).stdout;
      };
      expect(await screen(/^\/ #/m)).toMatch(/^\/ #/m);
      await tmux("send-keys", "echo hello $(hostname); stty size", "Enter");
      expect(await screen(/^30 100$/m)).toMatch(/^hello box$[\s\S]*^30 100$/m);
      await tmux("resize-window", "-x", "90", "-y", "25");
      await tmux("send-keys", "stty size", "Enter");
      expect(await screen(/^25 90$/m)).toMatch(/^25 90$/m);
      await tmux("send-keys", "exit 3", "Enter");
      for (let i = 0; i < 100 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(readFileSync(out, "utf8")).toBe("3\n");
    } finally {
      await tmux("kill-server");
      rmSync(join(out, ".."), { recursive: true, force: true });
    }
  });

  /** nook run --rm SCRIPT as the user, in the background: nook's pid once the script says "ready". */
  const runUntilReady = async (script: string) => {
    const u = user();
    const cmd = `echo $$; exec env XDG_DATA_HOME=${s.dataHome} HOME=${u.home} ${process.execPath} ${nookBin()} run --rm ${bb()} sh -c "${script}"`;
    const child = spawn("runuser", ["-u", u.name, "--", "sh", "-c", cmd], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const pid = await new Promise<number>((resolve) =>
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (out.includes("ready")) resolve(Number(out.split("\n")[0]));
      }),
    );
    return { child, pid };
  };

  it.skipIf(!isRoot())(
    "removes a --rm container's directory on the next run when nook and its helper were killed -9",
    async () => {
      const u = user();
      // The container leaves a file of a subordinate id (uid 1000 inside), which only the namespace can remove.
      const { child, pid } = await runUntilReady(
        "touch /tmp/mine && chown 1000:1000 /tmp/mine && echo ready && sleep 30",
      );
      // Everything at once, the monitor too: nothing of nook's is left to clean up.
      const tree = descendants(pid);
      for (const p of [pid, ...tree]) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // gone already
        }
      }
      await new Promise((r) => child.once("close", r));
      for (let i = 0; i < 50 && tree.some(running); i++) await new Promise((r) => setTimeout(r, 100));
      const containers = join(s.dataHome, "nook", "containers");
      const left = (await dumpTree(s, containers)).filter((e) => !e.path.includes("/"));
      expect(left).toHaveLength(1);
      const next = await s.nook(["run", "--rm", bb(), "true"]);
      expect(next.stderr).toBe("");
      expect(await dumpTree(s, containers)).toEqual([]);
      // Its network helper (outside the killed tree) is ended too.
      const pastas = async (): Promise<string> =>
        (await runAs(u, ["sh", "-c", `pgrep -u ${u.uid} -f '[p]asta.*${s.dataHome}' || true`])).stdout;
      for (let i = 0; i < 20 && (await pastas()) !== ""; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await pastas()).toBe("");
    },
  );

  it("ends the container when its terminal hangs up", async () => {
    const u = user();
    const session = `nook-hup-${process.pid}`;
    const shell = `XDG_DATA_HOME=${s.dataHome} HOME=${u.home} TERM=xterm ${process.execPath} ${nookBin()} run --rm -it ${bb()} sh`;
    const tmux = (...args: string[]) => runAs(u, ["tmux", "-L", session, ...args]);
    await tmux("new-session", "-d", "-x", "80", "-y", "24", shell);
    const helpers = () =>
      runAs(u, ["sh", "-c", `pgrep -u ${u.uid} -f '[n]ook-helper.*${s.dataHome}' || true`]).then(
        (r) => r.stdout,
      );
    for (let i = 0; i < 100 && (await helpers()) === ""; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await helpers()).not.toBe("");
    // The pane and its terminal go away: nook gets SIGHUP, the busybox shell (pid 1, no handler) ignores it.
    await tmux("kill-server");
    let left = "x";
    for (let i = 0; i < 60 && left !== ""; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await helpers();
    }
    expect(left).toBe("");
    expect(await dumpTree(s, join(s.dataHome, "nook", "containers"))).toEqual([]);
  });

  it.skipIf(!isRoot())("cleans up a --rm container itself when only nook is killed -9", async () => {
    const { child, pid } = await runUntilReady("echo ready; sleep 30");
    const tree = descendants(pid);
    process.kill(pid, "SIGKILL");
    await new Promise((r) => child.once("close", r));
    // The monitor gets a hangup as nook dies: pid 1 ignores it, SIGKILL follows 2 s later, then the --rm.
    for (let i = 0; i < 60 && tree.some(running); i++) await new Promise((r) => setTimeout(r, 100));
    expect(tree.filter(running)).toEqual([]);
    expect(await dumpTree(s, join(s.dataHome, "nook", "containers"))).toEqual([]);
  });

  it("gives 127 for a command that does not exist, and 125 for its own errors, each in one line", async () => {
    const missing = await s.nook(["run", "--rm", bb(), "/nope"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toBe("nook: exec /nope: No such file or directory (ENOENT)\n");
    const bad = await s.nook(["run", "--rm", "-v", "/does/not/exist:/x", bb(), "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toBe("nook: -v /does/not/exist:/x: /does/not/exist does not exist\n");
  });

  it.skipIf(!isRoot())("stops the container when nook gets SIGTERM", async () => {
    const u = user();
    const script = "trap 'echo got TERM; exit 42' TERM; echo ready; while true; do sleep 0.1; done";
    const cmd = `echo $$; exec env XDG_DATA_HOME=${s.dataHome} HOME=${u.home} ${process.execPath} ${nookBin()} run --rm ${bb()} sh -c "${script}"`;
    const child = spawn("runuser", ["-u", u.name, "--", "sh", "-c", cmd], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const ready = new Promise<number>((resolve) =>
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (out.includes("ready")) resolve(Number(out.split("\n")[0]));
      }),
    );
    const pid = await ready;
    process.kill(pid, "SIGTERM");
    const code = await new Promise<number | null>((r) => child.once("close", (c) => r(c)));
    expect(out).toContain("got TERM");
    expect(code).toBe(42);
  });

  it("leaves no mount, process or directory behind after 100 runs with --rm", async () => {
    const u = user();
    const loop = `for i in $(seq 100); do XDG_DATA_HOME=${s.dataHome} ${process.execPath} ${nookBin()} run --rm ${bb()} true || exit 1; done`;
    const r = await runAs(u, ["sh", "-c", loop], { timeoutMs: 300_000 });
    expect(r.code).toBe(0);
    expect(await dumpTree(s, join(s.dataHome, "nook", "containers"))).toEqual([]);
    expect(await dumpTree(s, join(s.dataHome, "nook", "tmp"))).toEqual([]);
    // Helpers of this store's containers name it in their arguments; other tests' do not.
    const procs = await runAs(u, ["sh", "-c", `pgrep -u ${u.uid} -f '[n]ook-helper.*${s.dataHome}' || true`]);
    expect(procs.stdout).toBe("");
    // Container mounts live in the container's mount namespace: the host's table never sees them.
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(s.dataHome);
  }, 300_000);
});

describeAs("nosub", "nook run, user without subordinate ranges", (user) => {
  let s: TestStore;
  beforeAll(async () => {
    s = await freshStore(user());
    expect((await s.nook(["pull", "-q", layersImage()])).code).toBe(0);
  });
  afterAll(async () => s.remove());

  it("runs as root of a single-id map, with the image's files owned by root", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "-u",
      "0",
      layersImage(),
      "sh",
      "-c",
      "cat /proc/self/uid_map; stat -c %u /data/app-file",
    ]);
    expect(r.stderr).toBe("");
    const [map, owner] = r.stdout.trim().split("\n");
    expect(map?.trim().split(/\s+/)).toEqual(["0", String(user().uid), "1"]);
    expect(owner).toBe("0");
  });

  it("falls back to the copy driver where neither overlay nor fuse-overlayfs is usable", async () => {
    // What a kernel without overlay in user namespaces leaves in the cache,
    // and a PATH without fuse-overlayfs (this user needs no newuidmap).
    const cache = join(s.dataHome, "nook", "driver.json");
    await runAs(user(), [
      "sh",
      "-c",
      `printf '{"kernel":"${release()}","driver":"fuse-overlayfs"}' > ${cache}`,
    ]);
    try {
      // The root is merged/ bound onto itself, where an overlay's mount root would be "/".
      const inside =
        "awk '$5 == \"/\" {print $4}' /proc/self/mountinfo; cat /data/opaque/new; ls /data/opaque; ls /data/removed-dir 2>&1";
      const r = await s.nook(["run", "--rm", "-u", "0", layersImage(), "sh", "-c", inside], {
        path: "/nonexistent",
      });
      expect(r.stderr).toBe("");
      expect(r.stdout.split("\n")).toEqual([
        expect.stringMatching(/\/nook\/containers\/[0-9a-f]{64}\/merged$/),
        "the only file left in the opaque directory",
        "new",
        expect.stringMatching(/No such file/),
        "",
      ]);
    } finally {
      await runAs(user(), ["rm", "-f", cache]);
    }
  });

  it("says in one line that no other user exists", async () => {
    const r = await s.nook(["run", "--rm", layersImage(), "id"]);
    expect(r.code).toBe(125);
    expect(r.stderr.split("\n")[0]).toBe(
      "nook: cannot run as 1000:1000: you have no subordinate ids, so only your own id exists in the container (as 0:0)",
    );
  });
});
