import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { type DecodedConfig, decodeConfig } from "../../../src/runtime/oci-spec.js";
import { runcMissing, useRuncBundles } from "./runc-bundles.js";

type Json = Record<string, unknown>;

const decoded = (text: string, dir = "/bundle"): DecodedConfig => {
  const r = decodeConfig(text, dir);
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
};

const failure = (text: string): string => {
  const r = decodeConfig(text, "/bundle");
  if (E.isRight(r)) throw new Error("decoded, but should not have");
  return r.left;
};

// config.md's smallest Linux config nook can start.
const MINIMAL = {
  ociVersion: "1.2.0",
  process: { user: { uid: 0, gid: 0 }, args: ["sh"], cwd: "/" },
  root: { path: "rootfs" },
};

/** MINIMAL with `edit` applied to a deep copy, as text. */
const minimal = (edit: (c: Json) => void = () => {}): string => {
  const c = structuredClone(MINIMAL) as Json;
  edit(c);
  return JSON.stringify(c);
};

const at = (c: Json, ...keys: string[]): Json => keys.reduce((o, k) => o[k] as Json, c);

if (runcMissing) console.warn(`oci-spec: skipping the tests on runc's own specs: ${runcMissing}`);

describe.skipIf(runcMissing !== undefined)("config.json as runc writes it", () => {
  const { plain, rootless } = useRuncBundles();

  it("decodes `runc spec` whole, root.path resolved against the bundle", () => {
    const b = plain();
    const { config, root } = decoded(b.text, b.dir);
    expect(root).toBe(`${b.dir}/rootfs`);
    // Nothing dropped or invented: the decoded value is the document.
    expect(config).toEqual(JSON.parse(b.text));
    expect(config.process.args).toEqual(["sh"]);
    expect(config.linux?.namespaces?.map((ns) => ns.type)).toEqual(["pid", "network", "ipc", "uts", "mount"]);
    expect(config.linux?.resources?.devices).toEqual([{ allow: false, access: "rwm" }]);
  });

  it("decodes `runc spec --rootless` whole, with its user namespace and one-id mappings", () => {
    const b = rootless();
    const { config, root } = decoded(b.text, b.dir);
    expect(root).toBe(`${b.dir}/rootfs`);
    expect(config).toEqual(JSON.parse(b.text));
    expect(config.linux?.namespaces?.map((ns) => ns.type)).toContain("user");
    const euid = process.geteuid?.() ?? 0;
    expect(config.linux?.uidMappings).toEqual([{ containerID: 0, hostID: euid, size: 1 }]);
    expect(config.mounts?.find((m) => m.destination === "/sys")?.options).toContain("rbind");
  });

  it("names the field when runc's spec is broken by hand", () => {
    const c = JSON.parse(plain().text) as Json;
    at(c, "process", "user").uid = -1;
    expect(failure(JSON.stringify(c))).toBe("config.json: process.user.uid: expected uint32, got -1");
  });
});

describe("decodeConfig", () => {
  it("keeps an absolute root.path, and resolves a relative bundle against the working directory", () => {
    expect(decoded(minimal((c) => (at(c, "root").path = "/srv/rootfs"))).root).toBe("/srv/rootfs");
    expect(decoded(minimal(), "bundle").root).toBe(`${process.cwd()}/bundle/rootfs`);
    expect(
      decoded(
        minimal((c) => (at(c, "root").path = "../shared/rootfs")),
        "/b/one",
      ).root,
    ).toBe("/b/shared/rootfs");
  });

  it("passes unknown fields through, at the top and deeper (the spec's Extensibility section)", () => {
    const { config } = decoded(
      minimal((c) => {
        c["org.example.future"] = { on: true };
        c.linux = { futureThing: [1, 2], namespaces: [{ type: "pid", someday: "x" }] };
      }),
    );
    expect(config).toMatchObject({
      "org.example.future": { on: true },
      linux: { futureThing: [1, 2], namespaces: [{ type: "pid", someday: "x" }] },
    });
  });

  it("reads null as absent in optional fields, as Go's encoding/json does", () => {
    const { config } = decoded(
      minimal((c) => {
        c.hostname = null;
        c.mounts = null;
        at(c, "process").env = null;
        c.linux = { resources: { memory: { limit: null } } };
      }),
    );
    expect(config.hostname).toBeUndefined();
    expect(config.mounts).toBeUndefined();
    expect(config.process.env).toBeUndefined();
    expect(config.linux?.resources?.memory?.limit).toBeUndefined();
  });

  it("decodes seccomp, resources, devices, hooks and an unlimited rlimit (RLIM_INFINITY)", () => {
    // RLIM_INFINITY, as engines write it for an unlimited rlimit: 2^64-1, past a double's exact integers.
    const infinity = "18446744073709551615";
    const text = minimal((c) => {
      c.hooks = { createRuntime: [{ path: "/usr/bin/fix-mounts", args: ["fix-mounts", "a"], timeout: 5 }] };
      c.linux = {
        devices: [{ path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 }],
        resources: {
          memory: { limit: 536870912, swap: -1 },
          cpu: { shares: 1024, quota: 1000000, period: 500000, cpus: "2-3" },
          pids: { limit: 32771 },
          blockIO: { weight: 10 },
        },
        seccomp: {
          defaultAction: "SCMP_ACT_ERRNO",
          defaultErrnoRet: 1,
          architectures: ["SCMP_ARCH_X86_64"],
          syscalls: [
            {
              names: ["read"],
              action: "SCMP_ACT_ALLOW",
              args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
            },
          ],
        },
      };
      at(c, "process").rlimits = [{ type: "RLIMIT_CORE", soft: 0, hard: 1 }];
    })
      .replace('"soft":0', `"soft":${infinity}`)
      .replace('"hard":1', `"hard":${infinity}`);
    expect(text).toContain(`"hard":${infinity}`);
    const { config } = decoded(text);
    expect(config.linux?.seccomp?.syscalls?.[0]?.args?.[0]?.op).toBe("SCMP_CMP_EQ");
    expect(config.process.rlimits?.[0]?.hard).toBeGreaterThanOrEqual(2 ** 64 - 1);
  });
});

describe("malformed config.json: one line naming the field", () => {
  const cases: [string, string, string][] = [
    ["not JSON", "{", "config.json: not JSON ("],
    ["not an object", "[]", "config.json: expected OciConfig, got []"],
    [
      "no ociVersion",
      minimal((c) => delete c.ociVersion),
      "config.json: ociVersion: expected string, got nothing",
    ],
    ["no process", minimal((c) => delete c.process), "config.json: process: expected Process, got nothing"],
    [
      "no process.args",
      minimal((c) => delete at(c, "process").args),
      "config.json: process.args: expected non-empty string[], got nothing",
    ],
    [
      "empty process.args",
      minimal((c) => (at(c, "process").args = [])),
      "config.json: process.args: expected non-empty string[], got []",
    ],
    [
      "process.args not strings",
      minimal((c) => (at(c, "process").args = ["sh", 1])),
      'config.json: process.args: expected non-empty string[], got ["sh",1]',
    ],
    [
      "negative uid",
      minimal((c) => (at(c, "process", "user").uid = -1)),
      "config.json: process.user.uid: expected uint32, got -1",
    ],
    [
      "uid past 32 bits",
      minimal((c) => (at(c, "process", "user").uid = 2 ** 32)),
      "config.json: process.user.uid: expected uint32, got 4294967296",
    ],
    [
      "fractional gid",
      minimal((c) => (at(c, "process", "user").gid = 1.5)),
      "config.json: process.user.gid: expected uint32, got 1.5",
    ],
    [
      "uid as a string",
      minimal((c) => (at(c, "process", "user").uid = "0")),
      'config.json: process.user.uid: expected uint32, got "0"',
    ],
    [
      "no user",
      minimal((c) => delete at(c, "process").user),
      "config.json: process.user: expected User, got nothing",
    ],
    [
      "relative cwd",
      minimal((c) => (at(c, "process").cwd = "tmp")),
      'config.json: process.cwd: expected absolute path, got "tmp"',
    ],
    [
      "an env entry not a string",
      minimal((c) => (at(c, "process").env = ["A=1", { B: 2 }])),
      'config.json: process.env[1]: expected string, got {"B":2}',
    ],
    [
      "terminal as a string",
      minimal((c) => (at(c, "process").terminal = "yes")),
      'config.json: process.terminal: expected boolean, got "yes"',
    ],
    [
      "negative rlimit",
      minimal((c) => (at(c, "process").rlimits = [{ type: "RLIMIT_NOFILE", soft: -1, hard: 1024 }])),
      "config.json: process.rlimits[0].soft: expected uint64, got -1",
    ],
    ["no root", minimal((c) => delete c.root), "config.json: root: expected Root, got nothing"],
    [
      "empty root.path",
      minimal((c) => (at(c, "root").path = "")),
      'config.json: root.path: expected non-empty string, got ""',
    ],
    [
      "a mount without destination",
      minimal((c) => (c.mounts = [{ destination: "/proc", type: "proc" }, { type: "tmpfs" }])),
      "config.json: mounts[1].destination: expected string, got nothing",
    ],
    [
      "mounts not a list",
      minimal((c) => (c.mounts = { "/proc": "proc" })),
      'config.json: mounts: expected Mount[], got {"/proc":"proc"}',
    ],
    [
      "a namespace without type",
      minimal((c) => (c.linux = { namespaces: [{ type: "pid" }, { path: "/proc/1/ns/net" }] })),
      "config.json: linux.namespaces[1].type: expected string, got nothing",
    ],
    [
      "a relative namespace path",
      minimal((c) => (c.linux = { namespaces: [{ type: "net", path: "ns/net" }] })),
      'config.json: linux.namespaces[0].path: expected absolute path, got "ns/net"',
    ],
    [
      "a device of an unknown type",
      minimal((c) => (c.linux = { devices: [{ path: "/dev/x", type: "x", major: 1, minor: 3 }] })),
      'config.json: linux.devices[0].type: expected "c" | "b" | "u" | "p", got "x"',
    ],
    [
      "a memory limit with a unit",
      minimal((c) => (c.linux = { resources: { memory: { limit: "1G" } } })),
      'config.json: linux.resources.memory.limit: expected int64, got "1G"',
    ],
    [
      "a zero hook timeout",
      minimal((c) => (c.hooks = { poststop: [{ path: "/bin/true", timeout: 0 }] })),
      "config.json: hooks.poststop[0].timeout: expected positive integer, got 0",
    ],
    [
      "a relative hook path",
      minimal((c) => (c.hooks = { prestart: [{ path: "hook" }] })),
      'config.json: hooks.prestart[0].path: expected absolute path, got "hook"',
    ],
    [
      "a seccomp rule without names",
      minimal(
        (c) =>
          (c.linux = {
            seccomp: { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ action: "SCMP_ACT_ERRNO" }] },
          }),
      ),
      "config.json: linux.seccomp.syscalls[0].names: expected non-empty string[], got nothing",
    ],
    [
      "an annotation that is not a string",
      minimal((c) => (c.annotations = { "org.example.n": 1 })),
      "config.json: annotations.org.example.n: expected string, got 1",
    ],
    [
      "a relative masked path",
      minimal((c) => (c.linux = { maskedPaths: ["/proc/kcore", "proc/keys"] })),
      'config.json: linux.maskedPaths[1]: expected absolute path, got "proc/keys"',
    ],
    [
      "two faults",
      minimal((c) => {
        at(c, "process", "user").uid = -1;
        at(c, "process", "user").gid = -1;
      }),
      "config.json: process.user.uid: expected uint32, got -1 (and 1 more)",
    ],
  ];

  it.each(cases)("%s", (_, text, message) => {
    const got = failure(text);
    if (message.endsWith("(")) expect(got.startsWith(message)).toBe(true);
    else expect(got).toBe(message);
    expect(got).not.toContain("\n");
  });
});

describe("hostile config.json", () => {
  it("keeps a value with newlines and control characters on one line, cut short", () => {
    const got = failure(minimal((c) => (at(c, "process").cwd = `x\n\r\u0000${"A".repeat(10_000)}`)));
    expect([...got].filter((ch) => ch < " ")).toEqual([]);
    expect(got.length).toBeLessThan(200);
    expect(got).toMatch(/^config\.json: process\.cwd: expected absolute path, got "x\\n\\r\\u0000A+\.\.\.$/);
  });

  it("decodes __proto__ and constructor keys as plain data, polluting nothing", () => {
    const text = minimal().replace(/^\{/, '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},');
    const { config } = decoded(text);
    expect(Object.hasOwn(config, "__proto__")).toBe(true);
    expect(({} as Json).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
  });

  it("survives a deeply nested unknown field (no recursion into what the codecs do not name)", () => {
    const depth = 100_000;
    const text = minimal().replace(/^\{/, `{"deep":${"[".repeat(depth)}${"]".repeat(depth)},`);
    expect(decoded(text).config).toHaveProperty("deep");
  });

  it("refuses a deeply nested value where a field is expected, in one line", () => {
    const depth = 100_000;
    const text = minimal().replace(/^\{/, `{"hostname":${"[".repeat(depth)}${"]".repeat(depth)},`);
    expect(failure(text)).toBe(`config.json: hostname: expected string, got ${"[".repeat(37)}...`);
  });

  it("quotes a key with control characters, and cuts a long one, keeping the error on one line", () => {
    const got = failure(minimal((c) => (c.annotations = { "a\nb": "ok", [`k\r${"x".repeat(5000)}`]: 2 })));
    expect(got).toMatch(/^config\.json: annotations\."k\\rx+\.\.\.: expected string, got 2$/);
    expect(got.length).toBeLessThan(200);
  });
});
