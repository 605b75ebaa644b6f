// --device as the unprivileged test users: host device nodes bound under
// the container's /dev (checked inside the container by their numbers and by
// using them), one the user may not open refused in one line, and CDI specs
// (JSON and YAML, written by the test into a directory of its own that
// NOOK_CDI_SPEC_DIRS names) injecting /dev/null under another name, a bind
// mount and an environment variable.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, nookBin, type RunResult } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";
import { isRoot } from "../support/users.js";

const bb = (): string => `${inject("registry")}/busybox`;

/** A JSON CDI spec: /dev/null as /dev/cdi-null, a read-only bind of `data` at /opt/cdi-data, CDI_TEST=hello. */
const jsonSpec = (data: string): string =>
  JSON.stringify({
    cdiVersion: "0.6.0",
    kind: "nook.test/dev",
    containerEdits: { env: ["CDI_SPEC_WIDE=yes"] },
    devices: [
      {
        name: "null",
        containerEdits: {
          deviceNodes: [{ path: "/dev/cdi-null", hostPath: "/dev/null", type: "c", major: 1, minor: 3 }],
          mounts: [
            { hostPath: data, containerPath: "/opt/cdi-data", options: ["ro", "nosuid", "nodev", "bind"] },
          ],
          env: ["CDI_TEST=hello"],
        },
      },
      {
        name: "hooked",
        containerEdits: {
          hooks: [{ hookName: "createContainer", path: "/usr/bin/true", args: ["true"] }],
        },
      },
    ],
  });

/** The same kind of edits in YAML, for another kind. */
const yamlSpec = `cdiVersion: "0.5.0"
kind: nook.test/yaml
devices:
  - name: zero
    containerEdits:
      deviceNodes:
        - path: /dev/cdi-zero
          hostPath: /dev/zero
      env:
        - CDI_YAML=from-yaml
`;

for (const kind of ["sub", "nosub"] as const) {
  describeAs(kind, `--device (${kind})`, (user) => {
    let s: TestStore;
    let dir = "";
    let env: Record<string, string> = {};
    beforeAll(async () => {
      s = await freshStore(user());
      expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
      // As root, in a directory of the test's own: the specs and the data they bind.
      dir = mkdtempSync("/tmp/nook-cdi-");
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, "specs"));
      mkdirSync(join(dir, "data"));
      writeFileSync(join(dir, "data", "file"), "bound by cdi\n");
      writeFileSync(join(dir, "specs", "test.json"), jsonSpec(join(dir, "data")));
      writeFileSync(join(dir, "specs", "test.yaml"), yamlSpec);
      chmodSync(join(dir, "specs"), 0o755);
      chmodSync(join(dir, "data"), 0o755);
      env = { NOOK_CDI_SPEC_DIRS: join(dir, "specs") };
    });
    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      await s.remove();
    });

    it("binds host devices, under their own name or another", async () => {
      const r = await s.nook([
        "run",
        "--rm",
        "--device",
        "/dev/null:/dev/mynull",
        "--device",
        "/dev/zero:/dev/z:rw",
        "--device",
        "/dev/full",
        bb(),
        "sh",
        "-c",
        "stat -c '%n %F %t:%T' /dev/mynull /dev/z /dev/full; echo x > /dev/mynull && echo wrote; head -c 3 /dev/z | od -An -tx1",
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        "/dev/mynull character special file 1:3\n/dev/z character special file 1:5\n/dev/full character special file 1:7\nwrote\n 00 00 00\n",
      );
    });

    it("keeps the devices of a created container for each start", async () => {
      const made = await s.nook([
        "create",
        "--device",
        "/dev/null:/dev/kept",
        bb(),
        "stat",
        "-c",
        "%t:%T",
        "/dev/kept",
      ]);
      expect(made.code).toBe(0);
      const id = made.stdout.trim();
      for (let i = 0; i < 2; i++) {
        const r = await s.nook(["start", "-a", id]);
        expect(r.stdout).toBe("1:3\n");
      }
      await s.nook(["rm", id]);
    });

    it("refuses in one line what it cannot give", async () => {
      const cases: [string, string][] = [
        [
          "/dev/nonexistent",
          "nook: --device /dev/nonexistent: /dev/nonexistent does not exist on this host (ENOENT)",
        ],
        ["/etc/passwd", "nook: --device /etc/passwd: /etc/passwd is not a device node"],
        [
          "dev/null",
          "nook: --device dev/null: expected /dev/HOST[:/dev/CONTAINER][:rwm], or vendor.com/class=name for a CDI device",
        ],
        [
          "/dev/null:/dev/n:rwx",
          "nook: --device /dev/null:/dev/n:rwx: the permissions are letters of rwm, each once, not rwx",
        ],
        [
          "/dev/null:r",
          "nook: --device /dev/null:r: a rootless container cannot be denied writing a device you may write (there is no device cgroup to enforce r)",
        ],
      ];
      for (const [flag, line] of cases) {
        const r = await s.nook(["run", "--rm", "--device", flag, bb(), "true"]);
        expect(r.code, flag).toBe(125);
        expect(r.stderr.split("\n")[0], flag).toBe(line);
      }
    });

    it.skipIf(!isRoot())("refuses a device node the user may not open", async () => {
      const nodes = mkdtempSync("/tmp/nook-devnode-");
      chmodSync(nodes, 0o755);
      const node = join(nodes, "private-null");
      execFileSync("mknod", ["-m", "0600", node, "c", "1", "3"]);
      try {
        const r = await s.nook(["run", "--rm", "--device", `${node}:/dev/p`, bb(), "true"]);
        expect(r.code).toBe(125);
        expect(r.stderr).toBe(
          `nook: --device ${node}:/dev/p: you may not open ${node} for reading or writing (c 1:3, mode 600, owner 0:0)\n` +
            "hint: ask your administrator for access to the device (its group, or a udev rule), or leave it out\n",
        );
        // Given to the user, the same node is bound and usable.
        chownSync(node, user().uid, user().gid);
        const ok = await s.nook([
          "run",
          "--rm",
          "-u",
          "0",
          "--device",
          `${node}:/dev/p`,
          bb(),
          "sh",
          "-c",
          "echo x > /dev/p && echo ok",
        ]);
        expect(ok.stderr).toBe("");
        expect(ok.stdout).toBe("ok\n");
      } finally {
        rmSync(nodes, { recursive: true, force: true });
      }
    });

    it("injects a CDI device's node, mount and environment (JSON spec)", async () => {
      const r = await s.nook(
        [
          "run",
          "--rm",
          "--device",
          "nook.test/dev=null",
          bb(),
          "sh",
          "-c",
          'stat -c "%F %t:%T" /dev/cdi-null; echo x > /dev/cdi-null && echo wrote; cat /opt/cdi-data/file; touch /opt/cdi-data/new 2>/dev/null || echo read-only; echo "$CDI_TEST $CDI_SPEC_WIDE"',
        ],
        { env },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("character special file 1:3\nwrote\nbound by cdi\nread-only\nhello yes\n");
    });

    it("reads YAML specs too, and several devices at once", async () => {
      const r = await s.nook(
        [
          "run",
          "--rm",
          "--device",
          "nook.test/yaml=zero",
          "--device",
          "nook.test/dev=null",
          bb(),
          "sh",
          "-c",
          'head -c 2 /dev/cdi-zero | od -An -tx1; stat -c "%t:%T" /dev/cdi-null; echo "$CDI_YAML $CDI_TEST"',
        ],
        { env },
      );
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(" 00 00\n1:3\nfrom-yaml hello\n");
    });

    it("says which devices the specs define, and refuses hooks rather than skipping them", async () => {
      const unknown = await s.nook(["run", "--rm", "--device", "nook.test/dev=gpu", bb(), "true"], { env });
      expect(unknown.code).toBe(125);
      expect(unknown.stderr).toBe(
        "nook: --device nook.test/dev=gpu: no CDI spec defines it\nhint: the nook.test/dev specs define null, hooked\n",
      );
      const hooked = await s.nook(["run", "--rm", "--device", "nook.test/dev=hooked", bb(), "true"], { env });
      expect(hooked.code).toBe(125);
      expect(hooked.stderr.split("\n")[0]).toBe(
        `nook: CDI device nook.test/dev=hooked (${join(dir, "specs", "test.json")}) has 1 hook(s) (createContainer /usr/bin/true); nook does not run CDI hooks`,
      );
    });
  });
}

describeAs("sub", "--device through a supplementary group", (user) => {
  let s: TestStore;
  beforeAll(async () => {
    s = await freshStore(user());
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
  });
  afterAll(async () => s.remove());

  it.skipIf(!isRoot())(
    "refuses a node open to the user only through a group the container drops",
    async () => {
      const u = user();
      const nodes = mkdtempSync("/tmp/nook-devgroup-");
      chmodSync(nodes, 0o755);
      const node = join(nodes, "group-null");
      execFileSync("mknod", ["-m", "0660", node, "c", "1", "3"]);
      chownSync(node, 0, 4242);
      try {
        // setpriv gives nook-sub the group 4242 for this one process: no host change.
        const r = await new Promise<RunResult>((resolve) => {
          const child = spawn(
            "setpriv",
            [
              `--reuid=${u.uid}`,
              `--regid=${u.gid}`,
              "--groups=4242",
              process.execPath,
              nookBin(),
              "run",
              "--rm",
              "--device",
              node,
              bb(),
              "true",
            ],
            { env: { HOME: u.home, PATH: "/usr/bin:/bin", XDG_DATA_HOME: s.dataHome } },
          );
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
          child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
          child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
        });
        expect(r.code).toBe(125);
        expect(r.stderr.split("\n")[0]).toBe(
          `nook: --device ${node}: you may open ${node} only through your group 4242, which a container on your subordinate ids does not keep (c 1:3, mode 660, owner 0:4242)`,
        );
      } finally {
        rmSync(nodes, { recursive: true, force: true });
      }
    },
  );
});
