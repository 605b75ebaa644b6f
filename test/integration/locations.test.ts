// Where nook keeps things, as the test users see it through nook info: the
// default, --root, NOOK_STORAGE, config.toml (root, runroot, network), a
// store moved to local disk with its note said once (for a user with no home
// of its own: the same path as a home on NFS, which this kernel cannot mount;
// test/unit/store/location.test.ts covers the file systems), and nook system
// reset taking all of it away.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync, chownSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, nookBin, running, type RunResult } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";
import { isRoot } from "../support/users.js";

const bb = (): string => `${inject("registry")}/busybox`;

interface Info {
  storage: { root: string; why: string; filesystem: string };
  runtime: { path: string; why: string };
  config: { path: string; exists: boolean };
  network: { default: string; defaultFrom: string };
}

const info = (r: RunResult): Info => {
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Info;
};

describeAs("sub", "where nook keeps things", (user) => {
  let s: TestStore;
  let elsewhere = "";
  beforeAll(async () => {
    s = await freshStore(user());
    elsewhere = join(s.dataHome, "elsewhere");
  });
  afterAll(async () => s.remove());

  it("says where the store, the runtime directory and the config file are, and why", async () => {
    const u = user();
    const i = info(await s.nook(["info", "--format", "json"]));
    expect(i.storage).toMatchObject({ root: `${s.dataHome}/nook`, why: "$XDG_DATA_HOME/nook" });
    expect(i.runtime).toEqual({
      path: `/tmp/nook-${u.uid}`,
      why: "no $XDG_RUNTIME_DIR (no login session): a private directory in /tmp",
    });
    expect(i.config).toEqual({ path: `${u.home}/.config/nook/config.toml`, exists: false });
    const text = await s.nook(["info"]);
    expect(text.stdout).toContain(`  root: ${s.dataHome}/nook (`);
    expect(text.stdout).toContain("  why there: $XDG_DATA_HOME/nook\n");
    expect(text.stdout).toContain(`  path: /tmp/nook-${u.uid}\n`);
  });

  it("takes --root, then NOOK_STORAGE, and keeps them for the nooks it runs (a pull)", async () => {
    const viaFlag = info(await s.nook(["--root", `${elsewhere}/flag`, "info", "--format", "json"]));
    expect(viaFlag.storage).toMatchObject({ root: `${elsewhere}/flag`, why: "--root" });
    const env = { NOOK_STORAGE: `${elsewhere}/env` };
    const viaEnv = info(await s.nook(["--root", `${elsewhere}/flag`, "info", "--format", "json"], { env }));
    expect(viaEnv.storage.why).toBe("--root");
    expect(info(await s.nook(["info", "--format", "json"], { env })).storage).toMatchObject({
      root: `${elsewhere}/env`,
      why: "$NOOK_STORAGE",
    });
    // The pull runs in a nook of its own inside the user namespace; the image lands in --root's store.
    expect((await s.nook(["--root", `${elsewhere}/flag`, "pull", "-q", bb()])).code).toBe(0);
    const images = await s.nook(["--root", `${elsewhere}/flag`, "images", "-q"]);
    expect(images.stdout.trim()).toMatch(/^[0-9a-f]{12}$/);
    expect((await s.nook(["images", "-q"])).stdout).toBe("");
    const run = await s.nook(["--root", `${elsewhere}/flag`, "run", "--rm", bb(), "echo", "from-root"]);
    expect(run.stdout).toBe("from-root\n");
  });

  it("reads root, runroot and network from config.toml, and refuses a bad one in one line", async () => {
    const u = user();
    const configHome = join(s.dataHome, "config");
    const file = join(configHome, "nook", "config.toml");
    mkdirSync(join(configHome, "nook"), { recursive: true });
    chownSync(configHome, u.uid, u.gid);
    const env = { XDG_CONFIG_HOME: configHome };
    writeFileSync(
      file,
      `root = "${elsewhere}/conf"\nrunroot = "${elsewhere}/run"\nnetwork = "none"\ncgroup_manager = "cgroupfs"\n`,
    );
    const i = info(await s.nook(["info", "--format", "json"], { env }));
    expect(i.storage).toMatchObject({ root: `${elsewhere}/conf`, why: `root in ${file}` });
    expect(i.runtime).toEqual({ path: `${elsewhere}/run`, why: `runroot in ${file}` });
    expect(i.config).toEqual({ path: file, exists: true });
    expect(i.network).toMatchObject({ default: "none", defaultFrom: "config.toml" });
    expect((await s.nook(["pull", "-q", bb()], { env })).code).toBe(0);
    const lo = await s.nook(["run", "--rm", bb(), "ls", "/sys/class/net"], { env });
    expect(lo.stdout).toBe("lo\n");
    // --root still wins over the file.
    expect(
      info(await s.nook(["--root", `${elsewhere}/flag`, "info", "--format", "json"], { env })).storage.why,
    ).toBe("--root");
    writeFileSync(file, 'storage = "/x"\n');
    const bad = await s.nook(["images"], { env });
    expect(bad.code).toBe(125);
    expect(bad.stderr).toBe(
      `nook: ${file}: unknown key storage\nhint: the keys are root, runroot, network, cgroup_manager\n`,
    );
    const rel = await s.nook(["--root", "relative", "images"]);
    expect(rel.code).toBe(2);
    expect(rel.stderr).toBe("nook: --root needs an absolute path\n");
  });

  it("removes everything with system reset, asking first", async () => {
    const u = user();
    const root = `${elsewhere}/reset`;
    const runroot = `${elsewhere}/reset-run`;
    const nookR = (args: string[]) => s.nook(["--root", root, "--runroot", runroot, ...args]);
    expect((await nookR(["pull", "-q", bb()])).code).toBe(0);
    const id = (await nookR(["run", "-d", "--network", "slirp4netns", bb(), "sleep", "1000"])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const monitor = (
      JSON.parse((await s.nook(["unshare", "cat", join(root, "containers", id, "started.json")])).stdout) as {
        monitorPid: number;
      }
    ).monitorPid;
    expect(running(monitor)).toBe(true);
    // No answer (stdin at its end) is no.
    const asked = await nookR(["system", "reset"]);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toMatch(/^WARNING! This will remove every container/);
    expect(existsSync(root)).toBe(true);
    const r = await nookR(["system", "reset", "-f"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual(expect.arrayContaining([`removed ${root}`, `removed ${runroot}`]));
    expect(existsSync(root)).toBe(false);
    expect(existsSync(runroot)).toBe(false);
    expect(running(monitor)).toBe(false);
    expect((await nookR(["ps", "-aq"])).stdout).toBe("");
    expect((await nookR(["images", "-q"])).stdout).toBe("");
    // Another store's runtime dir, and the test user's store, are left alone.
    expect(statSync(`${s.dataHome}/nook`).uid).toBe(u.uid);
  });
});

/** nook as a uid with no passwd entry and HOME=/nonexistent: no home of its own anywhere. */
const asHomeless = (uid: number, args: readonly string[]): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      "setpriv",
      [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", process.execPath, nookBin(), ...args],
      { cwd: "/", env: { HOME: "/nonexistent", PATH: "/usr/bin:/bin" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });

if (!isRoot())
  process.stderr.write(
    "[skipped] a store moved to local disk: needs root to run as a uid with no passwd entry\n",
  );

describeAs("nosub", "a store moved to local disk", () => {
  const UID = 4243;
  const local = `/var/tmp/nook-${UID}`;
  const clear = (): void => {
    if (!isRoot()) return;
    for (const d of [local, `/tmp/nook-${UID}`]) rmSync(d, { recursive: true, force: true });
  };
  beforeAll(clear);
  afterAll(clear);

  it.skipIf(!isRoot())(
    "goes to /var/tmp/nook-UID without a home, says so once, and works there",
    async () => {
      const first = await asHomeless(UID, ["info", "--format", "json"]);
      expect(first.code).toBe(0);
      const why = "you have no home directory of your own (HOME=/nonexistent): moved to local disk";
      expect(first.stderr).toBe(
        `nook: note: ${why}: the store is ${local} (nook info shows where everything lives)\n`,
      );
      expect((JSON.parse(first.stdout) as Info).storage).toMatchObject({ root: local, why });
      const again = await asHomeless(UID, ["info", "--format", "json"]);
      expect(again.stderr).toBe("");
      expect((JSON.parse(again.stdout) as Info).storage.root).toBe(local);
      const st = statSync(local);
      expect([st.uid, (st.mode & 0o7777).toString(8)]).toEqual([UID, "700"]);
      const pulled = await asHomeless(UID, ["pull", "-q", bb()]);
      expect(pulled.stderr).toBe("");
      const run = await asHomeless(UID, ["run", "--rm", "--network", "none", bb(), "echo", "local"]);
      expect(run.stderr).toBe("");
      expect(run.stdout).toBe("local\n");
    },
  );
});
