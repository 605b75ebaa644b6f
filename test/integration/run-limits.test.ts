// Resource limits of a container (--ulimit), as an unprivileged test user:
// set from inside the helper, seen from inside the container.
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, nookBin, runAs } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";

const bb = (): string => `${inject("registry")}/busybox`;

describeAs("sub", "nook run --ulimit", (user) => {
  let s: TestStore;
  let hardFiles: string;
  beforeAll(async () => {
    s = await freshStore(user());
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
    hardFiles = (await runAs(user(), ["sh", "-c", "ulimit -Hn"])).stdout.trim();
  });
  afterAll(async () => s.remove());

  it("sets the limits asked for", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "--ulimit",
      "nofile=100:200",
      "--ulimit",
      "core=0",
      bb(),
      "sh",
      "-c",
      "ulimit -n; ulimit -Hn; ulimit -c",
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("100\n200\n0\n");
  });

  it("raises open files to your hard limit by default, as rootless Podman", async () => {
    // nook started with a low soft limit: the container gets the hard one.
    const r = await runAs(
      user(),
      [
        "sh",
        "-c",
        'ulimit -Sn 64 && exec "$0" "$@"',
        process.execPath,
        nookBin(),
        "run",
        "--rm",
        bb(),
        "sh",
        "-c",
        "ulimit -n",
      ],
      { env: s.env },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(hardFiles);
    expect(hardFiles).not.toBe("64");
  });

  it("refuses, in one line and before the container starts, a hard limit above yours", async () => {
    const r = await s.nook(["run", "--rm", "--ulimit", `nofile=${Number(hardFiles) + 1}`, bb(), "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr.split("\n")[0]).toMatch(
      new RegExp(
        `^nook: --ulimit nofile: a hard limit of ${Number(hardFiles) + 1} is above yours \\(${hardFiles}\\)`,
      ),
    );
    const bad = await s.nook(["run", "--rm", "--ulimit", "nofiles=1", bb(), "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr.split("\n")).toHaveLength(2);
  });
});
