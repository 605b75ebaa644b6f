// What a user's configuration does to a pull: registries.conf short-name
// search and mirrors, and progress on a real terminal (a pty from script(1)).
import { afterAll, afterEach, beforeAll, expect, inject, it } from "vitest";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { describeAs, nookBin, runAs } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";

let stores: TestStore[] = [];
afterEach(async () => {
  await Promise.all(stores.map((s) => s.remove()));
  stores = [];
});

describeAs("sub", "registries.conf and the terminal", (user) => {
  let configHome = "";
  let mirror: FaultProxy;
  beforeAll(async () => {
    configHome = (await runAs(user(), ["mktemp", "-d", "/tmp/nook-config-XXXXXX"])).stdout.trim();
    mirror = await startFaultProxy(inject("registry"));
  });
  afterAll(async () => {
    await runAs(user(), ["rm", "-rf", configHome]);
    await mirror.stop();
  });

  const fresh = async (): Promise<TestStore> => {
    const s = await freshStore(user());
    stores.push(s);
    return s;
  };

  /** Writes $XDG_CONFIG_HOME/containers/registries.conf as the user. */
  const writeConf = async (text: string): Promise<void> => {
    const r = await runAs(user(), [
      "sh",
      "-c",
      `mkdir -p ${configHome}/containers && cat > ${configHome}/containers/registries.conf <<'EOF'\n${text}\nEOF`,
    ]);
    expect(r.code).toBe(0);
  };

  it("looks short names up in unqualified-search-registries", async () => {
    await writeConf(`unqualified-search-registries = ["${inject("registry")}"]`);
    const s = await fresh();
    const r = await s.nook(["pull", "-q", "busybox"], { env: { XDG_CONFIG_HOME: configHome } });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${inject("registry")}/busybox:latest\n`);
  });

  it("pulls through a mirror first, named in a [[registry]] table", async () => {
    const primary = inject("registry");
    // The primary location is unreachable: the image can only come from the mirror.
    await writeConf(
      [
        "[[registry]]",
        `prefix = "example.invalid"`,
        `location = "127.0.0.1:1"`,
        "insecure = true",
        "[[registry.mirror]]",
        `location = "${mirror.host}"`,
        "insecure = true",
      ].join("\n"),
    );
    mirror.requests.length = 0;
    const s = await fresh();
    const r = await s.nook(["pull", "-q", "example.invalid/busybox"], {
      env: { XDG_CONFIG_HOME: configHome },
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("example.invalid/busybox:latest\n");
    expect(mirror.requests.some((q) => q.path === "/v2/busybox/manifests/latest")).toBe(true);
    expect(primary).not.toBe(mirror.host);
  });

  it("names the file and field of a bad registries.conf", async () => {
    await writeConf(`unqualified-search-registries = "not a list"`);
    const s = await fresh();
    const r = await s.nook(["pull", "busybox"], { env: { XDG_CONFIG_HOME: configHome } });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(
      new RegExp(`^nook: ${configHome}/containers/registries.conf: unqualified-search-registries`),
    );
  });

  it("draws per-layer progress on a terminal", async () => {
    const s = await fresh();
    const cmd = `XDG_DATA_HOME=${s.dataHome} ${process.execPath} ${nookBin()} pull ${inject("registry")}/layers`;
    // script(1) gives nook a pty for stdout, as a person's terminal would.
    const r = await runAs(user(), ["script", "-qec", cmd, "/dev/null"], { env: { TERM: "xterm" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${String.fromCharCode(27)}\\[\\d+A`)); // redrawn in place
    expect(r.stdout).toMatch(/[0-9a-f]{12}: Pull complete/);
    expect(r.stdout).toMatch(/Status: Downloaded newer image for /);
  });
});
