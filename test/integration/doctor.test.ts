// nook doctor as the unprivileged test users: each check's verdict agrees
// with what the test finds on the host by other means (stat, sysctl files,
// the user's own unshare and mount), and a tool taken away or a mode changed
// (privately: a PATH without the tool, a copy without setuid, a nested
// namespace with its limit lowered) turns its check to fail with the fix.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeAs, nookBin, runAs, type RunResult } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";
import { isRoot, NOSUB_USER, passwdEntry, type TestUser } from "../support/users.js";

interface Check {
  id: string;
  title: string;
  status: "ok" | "warn" | "fail";
  required: boolean;
  evidence: string;
  fix?: string;
}

const parse = (r: RunResult): { ok: boolean; checks: Check[] } => {
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
};

const byId = (checks: Check[], id: string): Check => {
  const c = checks.find((x) => x.id === id);
  if (!c) throw new Error(`doctor has no check ${id}`);
  return c;
};

/** The test's own answer to "may this user do X": a shell as the user. */
const userCan = async (user: TestUser, script: string): Promise<boolean> =>
  (await runAs(user, ["sh", "-c", script])).code === 0;

/** `stat -f -c %T` names ext4 "ext2/ext3" (one magic number for the three). */
const statFsType = (path: string): string => {
  const t = execFileSync("stat", ["-f", "-c", "%T", path], { encoding: "utf8" }).trim();
  return t === "ext2/ext3" ? "ext4" : t === "cgroup2fs" ? "cgroup2" : t;
};

/** The user's own overlay mount in a user namespace, with util-linux: does the kernel allow it? */
const overlayAllowed = async (user: TestUser, scratch: string): Promise<boolean> =>
  userCan(
    user,
    `cd ${scratch} && mkdir -p l u w m && unshare --user --map-root-user --mount mount -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w m`,
  );

/** A directory holding copies of newuidmap/newgidmap without their privileges (a copy drops setuid). */
const unprivilegedTools = (): string => {
  const dir = mkdtempSync("/tmp/nook-doctor-tools-");
  chmodSync(dir, 0o755);
  for (const tool of ["newuidmap", "newgidmap"]) {
    copyFileSync(`/usr/bin/${tool}`, join(dir, tool));
    chmodSync(join(dir, tool), 0o755);
  }
  return dir;
};

for (const kind of ["sub", "nosub"] as const) {
  describeAs(kind, `nook doctor (${kind})`, (user) => {
    let s: TestStore;
    beforeAll(async () => {
      s = await freshStore(user());
    });
    afterAll(async () => {
      await s.remove();
    });

    it("names each present and missing piece of this host as the host itself shows it", async () => {
      const u = user();
      const r = await s.nook(["doctor", "--format", "json"]);
      const { ok, checks } = parse(r);
      expect(r.code).toBe(0);
      expect(ok).toBe(true);
      // Every check has a verdict, and every verdict short of ok a fix.
      for (const c of checks) {
        expect(["ok", "warn", "fail"]).toContain(c.status);
        if (c.status !== "ok") expect(c.fix, c.id).toBeTruthy();
      }
      const max = readFileSync("/proc/sys/user/max_user_namespaces", "utf8").trim();
      expect(byId(checks, "userns")).toMatchObject({ status: "ok", required: true });
      expect(byId(checks, "userns").evidence).toContain(`user.max_user_namespaces=${max}`);

      if (kind === "sub") {
        const [start = 0, count = 0] = u.subuid!.split(":").map(Number);
        expect(byId(checks, "subids")).toMatchObject({ status: count >= 65536 ? "ok" : "warn" });
        expect(byId(checks, "subids").evidence).toContain(`uids ${start}-${start + count - 1} (${count})`);
        expect(byId(checks, "newuidmap")).toMatchObject({ status: "ok", required: true });
        expect(byId(checks, "newuidmap").evidence).toBe("/usr/bin/newuidmap may write id maps");
        expect(byId(checks, "idmap").evidence).toContain(`uids 0:${u.uid}:1 1:${start}:${count}`);
      } else {
        expect(byId(checks, "subids")).toMatchObject({ status: "warn", required: false });
        expect(byId(checks, "subids").evidence).toMatch(/^nook-nosub has no ranges/);
        expect(byId(checks, "newuidmap")).toMatchObject({ status: "ok", required: false });
        expect(byId(checks, "idmap").evidence).toContain(`uids 0:${u.uid}:1`);
      }
      expect(byId(checks, "idmap").status).toBe("ok");

      // runAs gives no XDG_RUNTIME_DIR: no login session.
      expect(byId(checks, "xdg-runtime-dir")).toMatchObject({ status: "warn", required: false });
      expect(byId(checks, "runtime-dir")).toMatchObject({ status: "ok" });
      expect(byId(checks, "runtime-dir").evidence).toMatch(new RegExp(`^/tmp/nook-${u.uid} `));

      const store = byId(checks, "store");
      expect(store.status).toBe("ok");
      expect(store.evidence).toMatch(
        new RegExp(`^${s.dataHome}/nook \\(\\$XDG_DATA_HOME/nook\\) on ${statFsType(s.dataHome)}: `),
      );

      const scratch = (await runAs(u, ["mktemp", "-d", "/tmp/nook-ovl-XXXXXX"])).stdout.trim();
      try {
        expect(byId(checks, "overlay").status).toBe((await overlayAllowed(u, scratch)) ? "ok" : "warn");
      } finally {
        await runAs(u, ["rm", "-rf", scratch]);
      }
      expect(byId(checks, "dev-fuse").status).toBe(
        (await userCan(u, "test -c /dev/fuse -a -r /dev/fuse -a -w /dev/fuse")) ? "ok" : "warn",
      );
      expect(byId(checks, "fuse-overlayfs").status).toBe(
        (await userCan(u, "command -v fuse-overlayfs")) ? "ok" : "warn",
      );
      const hasNet = await userCan(u, "command -v pasta || command -v slirp4netns");
      expect(byId(checks, "network").status).toBe(hasNet ? "ok" : "warn");
      expect(byId(checks, "dev-net-tun").status).toBe(
        (await userCan(u, "test -r /dev/net/tun -a -w /dev/net/tun")) ? "ok" : "warn",
      );
      const v2 = statFsType("/sys/fs/cgroup") === "cgroup2";
      expect(byId(checks, "cgroups").status).toBe(v2 ? "ok" : "warn");
      expect(byId(checks, "user-bus").status).toBe("warn");
      expect(byId(checks, "linger").status).toBe(
        !existsSync("/run/systemd/system") || existsSync(`/var/lib/systemd/linger/${u.name}`) ? "ok" : "warn",
      );
      const hard = (await runAs(u, ["sh", "-c", "ulimit -Hn"])).stdout.trim();
      expect(byId(checks, "nofile").evidence).toContain(`hard ${hard}`);
    });

    it("prints the same verdicts as text, a fix under each warning", async () => {
      const json = parse(await s.nook(["doctor", "--format", "json"])).checks;
      const r = await s.nook(["doctor"]);
      expect(r.code).toBe(0);
      for (const c of json) {
        const line = `${c.status.padEnd(5)}  ${c.title}: `;
        expect(r.stdout).toContain(line);
      }
      expect(r.stdout).toMatch(/\n\n\d+ ok, \d+ warnings?, 0 failed\n$/);
    });

    it("turns tools missing from PATH into failures and warnings with their fixes", async () => {
      const r = await s.nook(["doctor", "--format", "json"], { path: "/nonexistent" });
      const { ok, checks } = parse(r);
      expect(byId(checks, "fuse-overlayfs")).toMatchObject({ status: "warn" });
      expect(byId(checks, "fuse-overlayfs").fix).toMatch(/apt-get install fuse-overlayfs/);
      expect(byId(checks, "network")).toMatchObject({ status: "warn" });
      expect(byId(checks, "network").fix).toMatch(/apt-get install passt/);
      if (kind === "sub") {
        expect(r.code).toBe(1);
        expect(ok).toBe(false);
        expect(byId(checks, "newuidmap")).toMatchObject({
          status: "fail",
          required: true,
          evidence: "newuidmap not found in PATH",
        });
        expect(byId(checks, "newuidmap").fix).toMatch(/^install it: apt-get install uidmap/);
        expect(byId(checks, "idmap").status).toBe("fail");
        const text = await s.nook(["doctor"], { path: "/nonexistent" });
        expect(text.code).toBe(1);
        expect(text.stdout).toMatch(
          /^fail {3}newuidmap \(setuid or file capabilities\): newuidmap not found in PATH\n {7}fix: install it: apt-get install uidmap/m,
        );
        expect(text.stdout).toMatch(/required: nook cannot run containers until they are fixed\)\n$/);
      } else {
        // Without ranges newuidmap is not needed: the host still runs containers.
        expect(r.code).toBe(0);
        expect(byId(checks, "newuidmap")).toMatchObject({ status: "ok", required: false });
      }
    });

    it("turns a missing XDG_RUNTIME_DIR and another user's into warnings that say what nook does instead", async () => {
      const u = user();
      const r = await s.nook(["doctor", "--format", "json"], { env: { XDG_RUNTIME_DIR: "/root" } });
      const checks = parse(r).checks;
      expect(byId(checks, "xdg-runtime-dir")).toMatchObject({ status: "warn" });
      expect(byId(checks, "xdg-runtime-dir").evidence).toBe(
        `/root: belongs to uid 0, not to you (${u.uid}), so nook ignores it and uses /tmp/nook-${u.uid}`,
      );
      expect(byId(checks, "runtime-dir").status).toBe("ok");
    });
  });
}

describeAs("sub", "nook doctor with a changed host", (user) => {
  let tools = "";
  let s: TestStore;
  beforeAll(async () => {
    tools = unprivilegedTools();
    s = await freshStore(user());
  });
  afterAll(async () => {
    rmSync(tools, { recursive: true, force: true });
    await s.remove();
  });

  it("fails newuidmap that lost its setuid bit, with the chmod that restores it", async () => {
    const r = await s.nook(["doctor", "--format", "json"], { path: `${tools}:/usr/bin:/bin` });
    expect(r.code).toBe(1);
    const c = byId(parse(r).checks, "newuidmap");
    expect(c).toMatchObject({
      status: "fail",
      evidence: `${tools}/newuidmap is neither setuid root nor has file capabilities, so it cannot map subordinate ids`,
    });
    expect(c.fix).toBe(
      `as root: chmod u+s ${tools}/newuidmap (or setcap cap_setuid+ep ${tools}/newuidmap), or reinstall uidmap`,
    );
  });

  it("fails user namespaces when the kernel refuses them, naming the sysctl", async () => {
    // Root of an outer user namespace lowers its own limit of nested ones to 0.
    const r = await runAs(
      user(),
      [
        "unshare",
        "--user",
        "--map-root-user",
        "sh",
        "-c",
        'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"',
        "sh",
        process.execPath,
        nookBin(),
        "doctor",
        "--format",
        "json",
      ],
      { env: s.env },
    );
    expect(r.code).toBe(1);
    const c = byId(parse(r).checks, "userns");
    expect(c.status).toBe("fail");
    expect(c.evidence).toMatch(
      /^user\.max_user_namespaces=0; creating one failed: unshare user namespace: No space left on device/,
    );
    expect(c.fix).toMatch(/^as root: sysctl -w user\.max_user_namespaces=28633/);
  });

  it.skipIf(!isRoot())("fails the runtime directory when another user planted it in $TMPDIR", async () => {
    const u = user();
    const other = passwdEntry(NOSUB_USER);
    const tmp = mkdtempSync("/tmp/nook-doctor-tmpdir-");
    chmodSync(tmp, 0o1777);
    const planted = join(tmp, `nook-${u.uid}`);
    mkdirSync(planted, { mode: 0o700 });
    chownSync(planted, other.uid, other.gid);
    try {
      const r = await s.nook(["doctor", "--format", "json"], { env: { TMPDIR: tmp } });
      expect(r.code).toBe(1);
      const c = byId(parse(r).checks, "runtime-dir");
      expect(c).toMatchObject({ status: "fail", required: true });
      expect(c.evidence).toBe(
        `the runtime directory ${planted} cannot be used: it belongs to uid ${other.uid}, not to you (${u.uid})`,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("is where nook's own errors send the user, only when it has more to say", async () => {
    const missing = await s.nook(["unshare", "/bin/true"], { path: "/nonexistent" });
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(
      /\nhint: install it: apt-get install uidmap.*; run `nook doctor` for details\n$/,
    );
    const notFound = await s.nook(["unshare", "/nonexistent/cmd"]);
    expect(notFound.stderr).toBe("nook: exec /nonexistent/cmd: No such file or directory (ENOENT)\n");
  });
});
