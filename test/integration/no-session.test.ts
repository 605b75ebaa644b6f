// nook without a login session, entered the ways shared machines and CI
// enter it: `su - user -c`, `runuser -u`, `setpriv --reuid --regid
// --init-groups` (which keeps root's environment: HOME=/root and root's
// XDG_RUNTIME_DIR), `env -i` with no XDG_RUNTIME_DIR, and an XDG_RUNTIME_DIR
// of another user. Each runs a container with slirp4netns (whose API socket
// lives in the runtime directory) and says where its runtime directory is;
// none writes into another user's directory, and one planted by the other
// test user is refused. `sudo -u` too (Debian's sudoers: env_reset, HOME set
// to the target user's).
import { spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, nookBin, runAs, type RunResult } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";
import { isRoot, NOSUB_USER, passwdEntry } from "../support/users.js";

const bb = (): string => `${inject("registry")}/busybox`;

const run = (cmd: string, args: readonly string[], env: Record<string, string>): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: "/", env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The environment root has here, as a person's `sudo -i` shell would: what setpriv and runuser pass on. */
const ROOT_ENV = {
  HOME: "/root",
  USER: "root",
  LOGNAME: "root",
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C.UTF-8",
};

interface Info {
  storage: { root: string; why: string };
  runtime: { path: string; why: string };
}

describeAs("sub", "nook without a login session", (user) => {
  let s: TestStore;
  /** A private XDG_RUNTIME_DIR of root's, as /run/user/0 is in root's session. */
  let rootRuntime = "";
  beforeAll(async () => {
    s = await freshStore(user());
    rootRuntime = mkdtempSync("/tmp/nook-root-runtime-");
    chmodSync(rootRuntime, 0o700);
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
  });
  afterAll(async () => {
    rmSync(rootRuntime, { recursive: true, force: true });
    await s.remove();
  });

  const node = process.execPath;
  /** nook ARGS as a shell command line for su -c. */
  const line = (args: readonly string[]): string =>
    [`XDG_DATA_HOME=${quote(s.dataHome)}`, quote(node), quote(nookBin()), ...args.map(quote)].join(" ");

  /** Each way in: a command line that runs `nook ARGS` as the user. */
  const entries: Record<string, (args: readonly string[]) => Promise<RunResult>> = {
    "su - user -c": (args) => run("su", ["-", user().name, "-c", line(args)], ROOT_ENV),
    "runuser -u": (args) =>
      run("runuser", ["-u", user().name, "--", node, nookBin(), ...args], {
        ...ROOT_ENV,
        XDG_RUNTIME_DIR: rootRuntime,
        XDG_DATA_HOME: s.dataHome,
      }),
    "sudo -u": (args) =>
      run("sudo", ["-u", user().name, "--", "env", `XDG_DATA_HOME=${s.dataHome}`, node, nookBin(), ...args], {
        ...ROOT_ENV,
        XDG_RUNTIME_DIR: rootRuntime,
      }),
    "setpriv --reuid --regid --init-groups": (args) =>
      run(
        "setpriv",
        [
          `--reuid=${user().uid}`,
          `--regid=${user().gid}`,
          "--init-groups",
          "--reset-env",
          "--",
          "env",
          `XDG_DATA_HOME=${s.dataHome}`,
          node,
          nookBin(),
          ...args,
        ],
        ROOT_ENV,
      ),
    "setpriv keeping root's environment": (args) =>
      run(
        "setpriv",
        [`--reuid=${user().uid}`, `--regid=${user().gid}`, "--init-groups", node, nookBin(), ...args],
        { ...ROOT_ENV, XDG_RUNTIME_DIR: rootRuntime, XDG_DATA_HOME: s.dataHome },
      ),
    "env -i without XDG_RUNTIME_DIR": (args) =>
      runAs(user(), [
        "/usr/bin/env",
        "-i",
        `HOME=${user().home}`,
        `XDG_DATA_HOME=${s.dataHome}`,
        node,
        nookBin(),
        ...args,
      ]),
  };

  for (const [name, nookAs] of Object.entries(entries))
    it(`runs a container through ${name}, with a private runtime directory in /tmp`, async () => {
      const u = user();
      const before = readdirSync(rootRuntime);
      const r = await nookAs([
        "run",
        "--rm",
        "--network",
        "slirp4netns",
        bb(),
        "sh",
        "-c",
        "id -u; ip -o -4 addr show tap0",
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^0\n.*10\.0\.2\.100/);
      const info = await nookAs(["info", "--format", "json"]);
      expect(info.code).toBe(0);
      const i = JSON.parse(info.stdout) as Info;
      expect(i.storage.root).toBe(`${s.dataHome}/nook`);
      expect(i.runtime.path).toBe(`/tmp/nook-${u.uid}`);
      expect(i.runtime.why).toMatch(
        name.includes("root's") || name === "runuser -u"
          ? new RegExp(`^\\$XDG_RUNTIME_DIR=${rootRuntime} belongs to uid 0`)
          : /^no \$XDG_RUNTIME_DIR \(no login session\)/,
      );
      const st = statSync(`/tmp/nook-${u.uid}`);
      expect([st.uid, st.mode & 0o7777]).toEqual([u.uid, 0o700]);
      // Never a file in root's runtime directory.
      expect(readdirSync(rootRuntime)).toEqual(before);
    });

  it("keeps its store in the user's own home when setpriv keeps root's HOME", async () => {
    const u = user();
    const home = `${u.home}/.local/share/nook`;
    const existed = existsSync(home);
    try {
      const r = await run(
        "setpriv",
        [
          `--reuid=${u.uid}`,
          `--regid=${u.gid}`,
          "--init-groups",
          node,
          nookBin(),
          "info",
          "--format",
          "json",
        ],
        ROOT_ENV,
      );
      expect(r.stderr).toBe("");
      const i = JSON.parse(r.stdout) as Info;
      expect(i.storage.root).toBe(home);
      expect(i.storage.why).toBe("~/.local/share/nook in your home in passwd ($HOME=/root is not yours)");
    } finally {
      if (!existed) rmSync(home, { recursive: true, force: true });
    }
  });

  it("never writes into another user's XDG_RUNTIME_DIR, even one that lets it", async () => {
    const other = passwdEntry(NOSUB_USER);
    const theirs = (await runAs(other, ["mktemp", "-d", "/tmp/nook-theirs-XXXXXX"])).stdout.trim();
    try {
      chmodSync(theirs, 0o777);
      const r = await s.nook(["run", "--rm", "--network", "slirp4netns", bb(), "true"], {
        env: { XDG_RUNTIME_DIR: theirs },
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(readdirSync(theirs)).toEqual([]);
    } finally {
      rmSync(theirs, { recursive: true, force: true });
    }
  });

  it.skipIf(!isRoot())(
    "refuses a runtime directory the other user planted, and leaves it alone",
    async () => {
      const u = user();
      const other = passwdEntry(NOSUB_USER);
      const tmp = mkdtempSync("/tmp/nook-planted-");
      chmodSync(tmp, 0o1777);
      const planted = `${tmp}/nook-${u.uid}`;
      mkdirSync(planted);
      chownSync(planted, other.uid, other.gid);
      chmodSync(planted, 0o777);
      try {
        const r = await s.nook(["run", "--rm", "--network", "slirp4netns", bb(), "true"], {
          env: { TMPDIR: tmp },
        });
        expect(r.code).toBe(125);
        expect(r.stderr).toBe(
          `nook: the runtime directory ${planted} cannot be used: it belongs to uid ${other.uid}, not to you (${u.uid})\n` +
            "hint: remove it, or set XDG_RUNTIME_DIR (or --runroot) to a directory of yours (mode 0700); run `nook doctor` for details\n",
        );
        expect(readdirSync(planted)).toEqual([]);
        // Its own, made there, is used.
        rmSync(planted, { recursive: true });
        const ok = await s.nook(["run", "--rm", "--network", "slirp4netns", bb(), "true"], {
          env: { TMPDIR: tmp },
        });
        expect(ok.code).toBe(0);
        const st = statSync(planted);
        expect([st.uid, st.mode & 0o7777]).toEqual([u.uid, 0o700]);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
});
