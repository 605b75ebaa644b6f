import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { type OciConfig, decodeConfig } from "../../../src/runtime/oci-spec.js";
import {
  SUPPORT,
  checkConfig,
  formatFinding,
  ignored,
  knownPatterns,
  unsupported,
} from "../../../src/runtime/oci-support.js";
import { type RuncBundle, runcMissing, useRuncBundles } from "./runc-bundles.js";

type Json = Record<string, unknown>;

const decode = (json: unknown): OciConfig => {
  const r = decodeConfig(JSON.stringify(json), "/bundle");
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right.config;
};

const MINIMAL = {
  ociVersion: "1.2.0",
  process: { user: { uid: 0, gid: 0 }, args: ["sh"], cwd: "/" },
  root: { path: "rootfs" },
};

/** MINIMAL, with a linux section and more, decoded. */
const config = (extra: Json): OciConfig => decode({ ...structuredClone(MINIMAL), ...extra });

const paths = (c: OciConfig): string[] => unsupported(c).map((f) => f.path);

/** Every object field in a JSON document: its path and its SUPPORT pattern (indices as [*]). */
const fieldsIn = (v: unknown, path = "", pattern = ""): { path: string; pattern: string }[] => {
  if (Array.isArray(v)) return v.flatMap((x, i) => fieldsIn(x, `${path}[${i}]`, `${pattern}[*]`));
  if (typeof v !== "object" || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => {
    const p = path === "" ? k : `${path}.${k}`;
    const q = pattern === "" ? k : `${pattern}.${k}`;
    return [{ path: p, pattern: q }, ...fieldsIn(x, p, q)];
  });
};

describe("SUPPORT, the table of verdicts", () => {
  const known = knownPatterns();

  it("has a verdict for every field the codecs name", () => {
    expect(known.fields.length).toBeGreaterThan(150);
    expect(known.fields.filter((p) => !SUPPORT.has(p))).toEqual([]);
  });

  it("names no field the codecs do not (a typo would silently refuse nothing)", () => {
    const names = new Set([...known.fields, ...known.elements]);
    expect([...SUPPORT.keys()].filter((p) => !names.has(p))).toEqual([]);
  });
});

if (runcMissing) console.warn(`oci-support: skipping the tests on runc's own specs: ${runcMissing}`);

describe.skipIf(runcMissing !== undefined)("runc's own specs", () => {
  const { plain, rootless } = useRuncBundles();

  const judged = (b: RuncBundle) => {
    const json = JSON.parse(b.text) as unknown;
    return { json, findings: checkConfig(decode(json)) };
  };

  // Every field runc writes is one nook honours: the device rule denies
  // everything (what a user namespace gives anyway), /sys is sysfs or an
  // rbind, /sys/fs/cgroup a cgroup mount, the hostname sits in a uts
  // namespace. What runc leaves out (no user namespace in the plain spec,
  // no network namespace in the rootless one) is the runtime's to decide.
  it.each([
    ["runc spec", plain],
    ["runc spec --rootless", rootless],
  ])("%s: every field is honoured, none unknown", (_, bundle) => {
    const { json, findings } = judged(bundle());
    const fields = fieldsIn(json);
    expect(fields.length).toBeGreaterThan(40);
    expect(fields.filter((f) => !SUPPORT.has(f.pattern) && !/\[\*\]$/.test(f.pattern))).toEqual([]);
    const verdicts = new Set(fields.map((f) => SUPPORT.get(f.pattern)).filter((v) => v !== undefined));
    expect([...verdicts].filter((v) => typeof v === "object" && "refused" in v)).toEqual([]);
    expect(findings).toEqual([]);
  });

  it("refuses what is added to runc's spec, by path, and ignores what it does not know", () => {
    const json = JSON.parse(plain().text) as Json;
    const linux = json.linux as Json;
    linux.intelRdt = { closID: "guaranteed_group", l3CacheSchema: "L3:0=7f0;1=1f" };
    (linux.namespaces as Json[]).push({ type: "time" });
    (json.mounts as Json[]).push({ destination: "/data", type: "nfs", source: "srv:/data" });
    json["org.example.future"] = true;
    const c = decode(json);
    expect(unsupported(c).map(formatFinding)).toEqual([
      'config.json: mounts[7].type is not supported: nook mounts bind, tmpfs, proc, sysfs, devpts, mqueue and cgroup file systems rootless, not "nfs"',
      "config.json: linux.namespaces[5].type is not supported: a time namespace: nook's helper does not create or join one",
      "config.json: linux.intelRdt is not supported: Intel RDT: resctrl groups are root's to create and assign",
    ]);
    expect(ignored(c).map(formatFinding)).toEqual([
      'config.json: ["org.example.future"] is ignored: not a runtime-spec 1.0-1.2 field nook knows; ignored (config.md, Extensibility)',
    ]);
  });

  it("needs the config's own network namespace for net.* sysctls: the rootless spec has none", () => {
    const rootlessJson = JSON.parse(rootless().text) as Json;
    const plainJson = JSON.parse(plain().text) as Json;
    for (const j of [rootlessJson, plainJson])
      (j.linux as Json).sysctl = { "net.ipv4.ping_group_range": "0 0" };
    expect(unsupported(decode(rootlessJson))).toEqual([
      {
        path: 'linux.sysctl["net.ipv4.ping_group_range"]',
        kind: "unsupported",
        reason: "needs the container's own network namespace, and linux.namespaces has none",
      },
    ]);
    expect(unsupported(decode(plainJson))).toEqual([]);
  });
});

describe("unsupported", () => {
  it("refuses the fields nook cannot honour, by path", () => {
    const c = config({
      hostname: "box",
      process: {
        ...MINIMAL.process,
        apparmorProfile: "docker-default",
        selinuxLabel: "system_u:system_r:container_t:s0",
        scheduler: { policy: "SCHED_FIFO", priority: 10 },
        ioPriority: { class: "IOPRIO_CLASS_RT", priority: 0 },
        commandLine: "cmd.exe",
      },
      linux: {
        namespaces: [{ type: "uts" }],
        mountLabel: "system_u:object_r:container_file_t:s0",
        personality: { domain: "LINUX32" },
        timeOffsets: { monotonic: { secs: 10 } },
        resources: {
          hugepageLimits: [{ pageSize: "2MB", limit: 1 }],
          network: { classID: 1 },
          rdma: { mlx5_1: { hcaHandles: 3 } },
          unified: { "io.max": "259:0 rbps=2097152" },
          memory: { limit: 1 << 30, swappiness: 0 },
          cpu: { shares: 1024, mems: "0", realtimeRuntime: 950000 },
          blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
        },
        netDevices: { eth1: {} },
      },
      solaris: { milestone: "svc:/milestone/container:default" },
      windows: { layerFolders: [] },
      vm: { kernel: { path: "/boot/vmlinuz" } },
    });
    expect(paths(c)).toEqual([
      "process.apparmorProfile",
      "process.selinuxLabel",
      "process.scheduler",
      "process.ioPriority",
      "process.commandLine",
      "linux.mountLabel",
      "linux.personality",
      "linux.timeOffsets",
      "linux.resources.hugepageLimits",
      "linux.resources.network",
      "linux.resources.rdma",
      "linux.resources.unified",
      "linux.resources.memory.swappiness",
      "linux.resources.cpu.mems",
      "linux.resources.cpu.realtimeRuntime",
      "linux.resources.blockIO.throttleReadBpsDevice",
      "linux.netDevices",
      "solaris",
      "windows",
      "vm",
    ]);
    for (const f of unsupported(c)) expect(formatFinding(f)).not.toContain("\n");
  });

  it("takes empty labels and profiles as none", () => {
    const c = config({
      process: { ...MINIMAL.process, apparmorProfile: "", selinuxLabel: "" },
      linux: { mountLabel: "" },
    });
    expect(paths(c)).toEqual([]);
  });

  it("knows a bind mount by its options or by type bind, and other types by name", () => {
    const c = config({
      mounts: [
        { destination: "/data", type: "none", source: "/srv/data", options: ["rbind", "ro"] },
        { destination: "/opt", type: "bind", source: "/opt" },
        { destination: "/home", source: "/home", options: ["bind"] },
        { destination: "/tmp", type: "tmpfs", source: "tmpfs" },
        { destination: "/sys/fs/cgroup", type: "cgroup2", source: "cgroup2" },
        { destination: "/work", type: "overlay", source: "overlay", options: ["lowerdir=/a"] },
        { destination: "/mnt", type: "none", source: "/mnt" },
        { destination: "/nothing" },
        { destination: "/ids", type: "none", source: "/ids", options: ["rbind", "idmap"] },
        {
          destination: "/mapped",
          source: "/mapped",
          options: ["bind"],
          uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
          gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
        },
      ],
    });
    expect(unsupported(c).map((f) => [f.path, f.reason])).toEqual([
      [
        "mounts[5].type",
        'nook mounts bind, tmpfs, proc, sysfs, devpts, mqueue and cgroup file systems rootless, not "overlay"',
      ],
      ["mounts[6].type", "no file system type, and no bind or rbind option"],
      ["mounts[7].type", "no file system type, and no bind or rbind option"],
      ["mounts[8].options[1]", expect.stringMatching(/^id-mapped mounts need privilege/)],
      ["mounts[9].uidMappings", expect.stringMatching(/^id-mapped mounts need privilege/)],
      ["mounts[9].gidMappings", expect.stringMatching(/^id-mapped mounts need privilege/)],
    ]);
  });

  it("creates or joins the seven namespaces it knows, and refuses time, unknown and repeated ones", () => {
    const ok = config({
      linux: {
        namespaces: ["user", "mount", "pid", "ipc", "uts", "cgroup"]
          .map((type) => ({ type }))
          .concat([{ type: "network", path: "/run/netns/a" } as { type: string }]),
      },
    });
    expect(paths(ok)).toEqual([]);
    const bad = config({
      linux: {
        namespaces: [
          { type: "pid" },
          { type: "time" },
          { type: "net" },
          { type: "pid", path: "/proc/1/ns/pid" },
        ],
      },
    });
    expect(unsupported(bad).map((f) => [f.path, f.reason])).toEqual([
      ["linux.namespaces[3]", 'namespace type "pid" is given twice'],
      ["linux.namespaces[1].type", "a time namespace: nook's helper does not create or join one"],
      ["linux.namespaces[2].type", 'unknown namespace type "net"'],
    ]);
  });

  it("sets only namespaced sysctls, each in a namespace of the container's", () => {
    const c = config({
      linux: {
        namespaces: [{ type: "ipc" }, { type: "network" }],
        sysctl: {
          "kernel.shmmax": "1",
          "fs.mqueue.msg_max": "20",
          "net.core.somaxconn": "256",
          "kernel.hostname": "x",
          "vm.swappiness": "10",
          "kernel.pid_max": "1",
        },
      },
    });
    expect(unsupported(c).map((f) => [f.path, f.reason])).toEqual([
      [
        'linux.sysctl["kernel.hostname"]',
        "needs the container's own uts namespace, and linux.namespaces has none",
      ],
      ['linux.sysctl["vm.swappiness"]', "not a namespaced sysctl: it would change the host"],
      ['linux.sysctl["kernel.pid_max"]', "not a namespaced sysctl: it would change the host"],
    ]);
  });

  it("sets a hostname only in a uts namespace of the container's", () => {
    expect(paths(config({ hostname: "box" }))).toEqual(["hostname"]);
    expect(paths(config({ hostname: "box", linux: { namespaces: [{ type: "uts" }] } }))).toEqual([]);
    expect(paths(config({ hostname: "" }))).toEqual([]);
    expect(paths(config({ domainname: "example.org", linux: { namespaces: [{ type: "uts" }] } }))).toEqual([
      "domainname",
    ]);
  });

  it("reads rlimits by the kernel's names, once each, soft under hard", () => {
    const c = config({
      process: {
        ...MINIMAL.process,
        rlimits: [
          { type: "RLIMIT_NOFILE", soft: 1024, hard: 4096 },
          { type: "RLIMIT_MSGQUEUE", soft: 0, hard: 0 },
          { type: "RLIMIT_FILES", soft: 1, hard: 1 },
          { type: "RLIMIT_CORE", soft: 10, hard: 1 },
          { type: "RLIMIT_NOFILE", soft: 1, hard: 1 },
        ],
      },
    });
    expect(unsupported(c).map((f) => [f.path, f.reason])).toEqual([
      ["process.rlimits[4]", 'rlimit "RLIMIT_NOFILE" is given twice'],
      ["process.rlimits[2].type", 'unknown rlimit "RLIMIT_FILES"'],
      ["process.rlimits[3]", "the soft limit is above the hard limit"],
    ]);
  });

  it("honours device rules that deny everything or allow, refuses a deny of one device", () => {
    const c = config({
      linux: {
        resources: {
          devices: [
            { allow: false, access: "rwm" },
            { allow: false, type: "a" },
            { allow: true, type: "c", major: 10, minor: 229, access: "rwm" },
            { allow: false, type: "c", major: 1, minor: 3, access: "rwm" },
          ],
        },
        devices: [
          { path: "/dev/fuse", type: "c", major: 10, minor: 229 },
          { path: "/dev/pipe", type: "p" },
          { path: "/dev/sda", type: "b" },
        ],
      },
    });
    expect(paths(c)).toEqual(["linux.resources.devices[3]", "linux.devices[1].type", "linux.devices[2]"]);
  });

  it("judges memory switches by value: only what cgroup v2 can do passes", () => {
    const ok = config({
      linux: {
        resources: { memory: { disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: false } },
      },
    });
    expect(paths(ok)).toEqual([]);
    const bad = config({
      linux: {
        resources: {
          memory: { disableOOMKiller: true, useHierarchy: false, checkBeforeUpdate: true, kernelTCP: 1 },
        },
      },
    });
    expect(paths(bad)).toEqual([
      "linux.resources.memory.disableOOMKiller",
      "linux.resources.memory.useHierarchy",
      "linux.resources.memory.checkBeforeUpdate",
      "linux.resources.memory.kernelTCP",
    ]);
  });

  it("takes a seccomp profile of known actions, architectures, flags and operators; refuses notification", () => {
    const ok = config({
      linux: {
        seccomp: {
          defaultAction: "SCMP_ACT_ERRNO",
          defaultErrnoRet: 38,
          architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
          flags: ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
          syscalls: [
            { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
            {
              names: ["personality"],
              action: "SCMP_ACT_ALLOW",
              args: [{ index: 0, value: 8, op: "SCMP_CMP_EQ" }],
            },
          ],
        },
      },
    });
    expect(paths(ok)).toEqual([]);
    const bad = config({
      linux: {
        seccomp: {
          defaultAction: "SCMP_ACT_NOTIFY",
          listenerPath: "/run/agent.sock",
          architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"],
          flags: ["SECCOMP_FILTER_FLAG_NEW"],
          syscalls: [
            { names: ["mount"], action: "SCMP_ACT_NOTIFY" },
            {
              names: ["ioctl"],
              action: "SCMP_ACT_ALLOW",
              args: [{ index: 1, value: 1, op: "SCMP_CMP_ABOUT" }],
            },
          ],
        },
      },
    });
    expect(unsupported(bad).map((f) => [f.path, f.reason])).toEqual([
      ["linux.seccomp.defaultAction", expect.stringMatching(/^seccomp notification/)],
      ["linux.seccomp.listenerPath", expect.stringMatching(/^seccomp notification/)],
      ["linux.seccomp.architectures[1]", 'unknown seccomp architecture "SCMP_ARCH_VAX"'],
      ["linux.seccomp.flags[0]", 'unknown seccomp flag "SECCOMP_FILTER_FLAG_NEW"'],
      ["linux.seccomp.syscalls[0].action", expect.stringMatching(/^seccomp notification/)],
      ["linux.seccomp.syscalls[1].args[0].op", 'unknown seccomp operator "SCMP_CMP_ABOUT"'],
    ]);
  });

  it("reads runtime-spec 1.x only", () => {
    expect(paths(config({ ociVersion: "1.0.0" }))).toEqual([]);
    expect(paths(config({ ociVersion: "1.3.0" }))).toEqual([]);
    expect(paths(config({ ociVersion: "2.0.0" }))).toEqual(["ociVersion"]);
    expect(paths(config({ ociVersion: "" }))).toEqual(["ociVersion"]);
  });

  it("takes a root propagation the spec names", () => {
    expect(paths(config({ linux: { rootfsPropagation: "slave" } }))).toEqual([]);
    expect(paths(config({ linux: { rootfsPropagation: "rslave" } }))).toEqual(["linux.rootfsPropagation"]);
  });
});

describe("ignored", () => {
  it("lists unknown fields at any depth, without refusing them", () => {
    const c = config({
      "org.example.future": 1,
      process: { ...MINIMAL.process, user: { uid: 0, gid: 0, shell: "/bin/sh" } },
      linux: { resources: { memory: { limit: 1, future: true } }, namespaces: [{ type: "pid", flags: 1 }] },
    });
    expect(unsupported(c)).toEqual([]);
    // In the document's order; a key that is no identifier is quoted.
    expect(ignored(c).map((f) => f.path)).toEqual([
      "process.user.shell",
      '["org.example.future"]',
      "linux.resources.memory.future",
      "linux.namespaces[0].flags",
    ]);
  });

  it("warns about unknown capabilities and kernel memory limits, which the spec says not to fail on", () => {
    const c = config({
      process: {
        ...MINIMAL.process,
        capabilities: { bounding: ["CAP_KILL", "CAP_WIZARDRY"], ambient: ["CAP_NET_BIND_SERVICE"] },
      },
      linux: { resources: { memory: { kernel: -1 } } },
    });
    expect(unsupported(c)).toEqual([]);
    expect(ignored(c).map((f) => [f.path, f.reason])).toEqual([
      ["process.capabilities.bounding[1]", 'unknown capability "CAP_WIZARDRY"'],
      ["linux.resources.memory.kernel", expect.stringMatching(/^kernel memory limits are gone/)],
    ]);
  });
});

describe("hostile field names", () => {
  it("treats __proto__, constructor and toString as unknown fields, not as codecs or verdicts", () => {
    const text = JSON.stringify(MINIMAL).replace(
      /^\{/,
      '{"__proto__":{"x":1},"constructor":1,"toString":2,"linux":{"hasOwnProperty":3,"sysctl":{"constructor":"1"}},',
    );
    const r = decodeConfig(text, "/bundle");
    if (E.isLeft(r)) throw new Error(r.left);
    const findings = checkConfig(r.right.config);
    expect(findings.map((f) => [f.path, f.kind])).toEqual([
      ["__proto__", "ignored"],
      ["constructor", "ignored"],
      ["toString", "ignored"],
      ["linux.hasOwnProperty", "ignored"],
      ['linux.sysctl["constructor"]', "unsupported"],
    ]);
  });

  it("quotes and cuts odd keys, so every finding is one line", () => {
    const c = config({ [`bad\nkey${"x".repeat(1000)}`]: 1, linux: { sysctl: { "net.a\nb": "1" } } });
    const lines = checkConfig(c).map(formatFinding);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain("\n");
      expect(line.length).toBeLessThan(200);
    }
    expect(lines[0]).toMatch(/^config\.json: \["bad\\nkeyx+\.\.\."\] is ignored: /);
  });
});
