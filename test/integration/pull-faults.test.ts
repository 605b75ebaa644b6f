// nook pull against registries that want credentials, and through a proxy
// that breaks blobs on purpose: each failure is one clear line, the store
// keeps nothing partial, and the next pull succeeds.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, inject, it } from "vitest";
import { startAuthRegistry, type AuthRegistry } from "../support/auth-registry.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { describeAs, descendants, nookBin, runAs, running } from "../support/nook.js";
import { isRoot } from "../support/users.js";
import { dumpTree, freshStore, type TestStore } from "../support/store.js";

let stores: TestStore[] = [];
afterEach(async () => {
  await Promise.all(stores.map((s) => s.remove()));
  stores = [];
});

/** Nothing under tmp/ and no layer without its layer.json: what a failed pull must leave. */
const expectNoPartials = async (s: TestStore): Promise<void> => {
  const tmp = await dumpTree(s, join(s.dataHome, "nook", "tmp"));
  expect(tmp.map((e) => e.path)).toEqual([]);
  const layers = await dumpTree(s, join(s.dataHome, "nook", "layers"));
  const dirs = layers.filter((e) => !e.path.includes("/")).map((e) => e.path);
  for (const d of dirs) expect(layers.map((e) => e.path)).toContain(`${d}/layer.json`);
};

/** An auth.json readable by the test user, holding these credentials for `host`. */
const authFile = (
  user: { uid: number; gid: number },
  host: string,
  username: string,
  password: string,
): string => {
  const dir = mkdtempSync("/tmp/nook-auth-");
  const file = join(dir, "auth.json");
  writeFileSync(
    file,
    JSON.stringify({
      auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString("base64") } },
    }),
  );
  chmodSync(dir, 0o755);
  chmodSync(file, 0o644);
  return file;
};

describeAs("sub", "nook pull through failures", (user) => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(inject("registry"));
  });
  afterAll(async () => proxy.stop());
  afterEach(() => {
    proxy.disarm();
    proxy.requests.length = 0;
  });

  const fresh = async (): Promise<TestStore> => {
    const s = await freshStore(user());
    stores.push(s);
    return s;
  };

  it("refuses a layer whose bytes do not match its digest, keeps nothing, and pulls cleanly next time", async () => {
    const s = await fresh();
    const ref = `${proxy.host}/layers`;
    proxy.arm({ kind: "corrupt-blob", times: 100 });
    const bad = await s.nook(["pull", "-q", ref]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^nook: .*(digest|hash)/);
    expect(bad.stderr.split("\n").filter((l) => l).length).toBeLessThanOrEqual(2);
    await expectNoPartials(s);
    expect((await s.nook(["images", "-q"])).stdout).toBe("");
    proxy.disarm();
    const good = await s.nook(["pull", "-q", ref]);
    expect(good.stderr).toBe("");
    expect(good.code).toBe(0);
  });

  it("resumes a download that breaks half-way with a Range request", async () => {
    const s = await fresh();
    const ref = `${proxy.host}/big`;
    // The manifest says which blob is largest; break that one once.
    const manifest = (await (
      await fetch(`http://${inject("registry")}/v2/big/manifests/latest`, {
        headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
      })
    ).json()) as { layers: { digest: string; size: number }[] };
    const biggest = [...manifest.layers].sort((a, b) => b.size - a.size)[0]!;
    proxy.arm({ kind: "truncate-blob", digest: biggest.digest });
    const r = await s.nook(["pull", "-q", ref]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const gets = proxy.requests.filter((q) => q.path.endsWith(`/blobs/${biggest.digest}`));
    expect(gets[0]).toMatchObject({ fault: "truncate-blob" });
    expect(gets[1]?.range).toMatch(/^bytes=\d+-$/);
    expect(gets[1]?.status).toBe(206);
  });

  it("retries a registry that answers 503, and fails in one line when it keeps doing so", async () => {
    const s = await fresh();
    proxy.arm({ kind: "status", status: 503, times: 2 });
    const ok = await s.nook(["pull", "-q", `${proxy.host}/busybox`]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const s2 = await fresh();
    proxy.arm({ kind: "status", status: 503, times: 1000 });
    const bad = await s2.nook(["pull", "-q", `${proxy.host}/layers`]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^nook: cannot reach .*HTTP 503 \(after \d+ attempts\)/);
    await expectNoPartials(s2);
  });

  it.skipIf(!isRoot())(
    "leaves no process and nothing partial when nook is killed with -9 mid-pull",
    async () => {
      const s = await fresh();
      const u = user();
      const ref = `${proxy.host}/big`;
      // sh prints its pid and execs nook in place: that pid is nook's.
      const cmd = `echo $$; exec env XDG_DATA_HOME=${s.dataHome} HOME=${u.home} PATH=/usr/bin:/bin ${process.execPath} ${nookBin()} pull --format json ${ref}`;
      const child = spawn("runuser", ["-u", u.name, "--", "sh", "-c", cmd], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let tree: number[] = [];
      const killed = await new Promise<boolean>((resolve) => {
        let out = "";
        let pid = 0;
        let sent = false;
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          if (sent) return;
          out += d;
          // The pid line is whole only once its newline has arrived.
          if (!pid && out.includes("\n")) pid = Number(out.split("\n")[0]);
          if (pid && /"status":"downloading","bytes":[1-9]/.test(out)) {
            sent = true;
            tree = descendants(pid);
            process.kill(pid, "SIGKILL");
            resolve(true);
          }
        });
        child.on("close", () => resolve(false));
      });
      expect(killed).toBe(true);
      await new Promise((r) => child.once("close", r));
      // The helper and the pull inside the namespace die with nook (PR_SET_PDEATHSIG).
      expect(tree.length).toBeGreaterThan(0);
      const deadline = Date.now() + 5_000;
      let left = tree.filter(running);
      while (left.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        left = tree.filter(running);
      }
      expect(left).toEqual([]);
      expect((await s.nook(["images", "-q"])).stdout).toBe("");
      const good = await s.nook(["pull", "-q", ref]);
      expect(good.stderr).toBe("");
      expect(good.code).toBe(0);
      await expectNoPartials(s);
    },
  );

  it("fails cleanly when the registry dies mid-pull, and pulls once it is back", async () => {
    const s = await fresh();
    const ref = `${proxy.host}/big`;
    proxy.arm({ kind: "die-mid-blob" });
    const bad = await s.nook(["pull", "-q", ref]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^nook: cannot reach /);
    await expectNoPartials(s);
    await proxy.revive();
    const good = await s.nook(["pull", "-q", ref]);
    expect(good.stderr).toBe("");
    expect(good.code).toBe(0);
  });
});

for (const kind of ["basic", "token"] as const) {
  describeAs("sub", `nook pull from a registry with ${kind} auth`, (user) => {
    let reg: AuthRegistry;
    const files: string[] = [];
    beforeAll(async () => {
      reg = await startAuthRegistry(kind, inject("fixtures"));
    });
    afterAll(async () => {
      await reg.stop();
      for (const f of files) rmSync(join(f, ".."), { recursive: true, force: true });
    });

    const fresh = async (): Promise<TestStore> => {
      const s = await freshStore(user());
      stores.push(s);
      return s;
    };

    it("asks for credentials in one line when it has none", async () => {
      const s = await fresh();
      const r = await s.nook(["pull", `${reg.host}/busybox`]);
      expect(r.code).toBe(125);
      expect(r.stderr.split("\n")).toEqual([
        `nook: ${reg.host} wants credentials for busybox, and nook has none for it`,
        `hint: nook login ${reg.host}`,
        "",
      ]);
    });

    it("pulls with the credentials of an auth.json", async () => {
      const s = await fresh();
      const file = authFile(user(), reg.host, reg.user, reg.password);
      files.push(file);
      const r = await s.nook(["pull", "-q", `${reg.host}/busybox`], { env: { REGISTRY_AUTH_FILE: file } });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    });

    it("says the credentials were refused when they are wrong", async () => {
      const s = await fresh();
      const file = authFile(user(), reg.host, reg.user, "wrong password");
      files.push(file);
      const r = await s.nook(["pull", `${reg.host}/busybox`], { env: { REGISTRY_AUTH_FILE: file } });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(
        new RegExp(
          `^nook: ${reg.host.replace(/\./g, "\\.")} refused the credentials of ${reg.user} for busybox\n`,
        ),
      );
    });

    it("logs in (checking the credentials), pulls, and logs out", async () => {
      const s = await fresh();
      const u = user();
      const dir = (await runAs(u, ["mktemp", "-d", "/tmp/nook-login-XXXXXX"])).stdout.trim();
      files.push(join(dir, "x"));
      const env = { REGISTRY_AUTH_FILE: join(dir, "auth.json") };
      const wrong = await s.nook(["login", "-u", reg.user, "-p", "nope", reg.host], { env });
      expect(wrong.code).toBe(125);
      expect(wrong.stderr).toMatch(
        new RegExp(`^nook: ${reg.host.replace(/\./g, "\\.")} refused the credentials of ${reg.user}\n`),
      );
      const ok = await s.nook(["login", "-u", reg.user, "-p", reg.password, reg.host], { env });
      expect(ok.stderr).toBe("");
      expect(ok.stdout).toBe("Login Succeeded!\n");
      expect((await s.nook(["pull", "-q", `${reg.host}/busybox`], { env })).code).toBe(0);
      const out = await s.nook(["logout", reg.host], { env });
      expect(out.stdout).toBe(`Removed login credentials for ${reg.host}\n`);
      const again = await s.nook(["logout", reg.host], { env });
      expect(again.code).toBe(125);
      expect(again.stderr).toBe(`nook: not logged in to ${reg.host}\n`);
    });

    it("never keeps credentials in another user's XDG_RUNTIME_DIR (runuser and setpriv pass root's on)", async () => {
      const s = await fresh();
      const u = user();
      const theirs = mkdtempSync("/tmp/nook-theirs-");
      chmodSync(theirs, 0o777);
      const config = (await runAs(u, ["mktemp", "-d", "/tmp/nook-config-XXXXXX"])).stdout.trim();
      files.push(join(config, "x"), join(theirs, "x"));
      const env = { XDG_RUNTIME_DIR: theirs, XDG_CONFIG_HOME: config };
      const ok = await s.nook(["login", "-u", reg.user, "-p", reg.password, reg.host], { env });
      expect(ok.stdout).toBe("Login Succeeded!\n");
      expect(readdirSync(theirs)).toEqual([]);
      expect(existsSync(join(config, "containers", "auth.json"))).toBe(true);
      expect((await s.nook(["pull", "-q", `${reg.host}/busybox`], { env })).code).toBe(0);
      expect((await s.nook(["logout", reg.host], { env })).code).toBe(0);
    });

    it("reads Docker's config.json in the user's home", async () => {
      const s = await fresh();
      const u = user();
      const home = (await runAs(u, ["mktemp", "-d", "/tmp/nook-home-XXXXXX"])).stdout.trim();
      files.push(join(home, "x"));
      const auth = Buffer.from(`${reg.user}:${reg.password}`).toString("base64");
      const w = await runAs(u, [
        "sh",
        "-c",
        `mkdir -p ${home}/.docker && printf '%s' '{"auths":{"${reg.host}":{"auth":"${auth}"}}}' > ${home}/.docker/config.json`,
      ]);
      expect(w.code).toBe(0);
      const r = await s.nook(["pull", "-q", `${reg.host}/busybox`], { env: { HOME: home } });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    });
  });
}
