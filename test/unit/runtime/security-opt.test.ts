import { describe, expect, it } from "vitest";
import { MASKED_PATHS, READONLY_PATHS } from "../../../src/runtime/container-ops.js";
import { parseSecurityOpts, systemPaths } from "../../../src/runtime/security-opt.js";
import { parseSysctl } from "../../../src/runtime/sysctl.js";

const parse = (...opts: string[]) => parseSecurityOpts(opts, "/home/u");
const DEFAULTS = { masked: MASKED_PATHS, readOnly: READONLY_PATHS };

describe("--security-opt", () => {
  it("defaults to the builtin profile, no_new_privs off", () => {
    expect(parse()).toEqual({
      noNewPrivileges: false,
      seccomp: "default",
      mask: [],
      unmask: [],
      given: ["seccomp=builtin"],
    });
  });

  it("takes Docker's spellings of no-new-privileges", () => {
    for (const o of [
      "no-new-privileges",
      "no-new-privileges:true",
      "no-new-privileges=true",
      "no-new-privileges=1",
    ])
      expect(parse(o)).toMatchObject({
        noNewPrivileges: true,
        given: ["no-new-privileges", "seccomp=builtin"],
      });
    expect(parse("no-new-privileges", "no-new-privileges=false")).toMatchObject({ noNewPrivileges: false });
    expect(parse("no-new-privileges=maybe")).toBe(
      "--security-opt no-new-privileges=maybe: no-new-privileges takes true or false",
    );
  });

  it("takes seccomp=unconfined, =builtin, and a profile's path, made absolute", () => {
    expect(parse("seccomp=unconfined")).toMatchObject({
      seccomp: "unconfined",
      given: ["seccomp=unconfined"],
    });
    expect(parse("seccomp:unconfined")).toMatchObject({ seccomp: "unconfined" });
    expect(parse("seccomp=builtin")).toMatchObject({ seccomp: "default" });
    expect(parse("seccomp=p.json")).toMatchObject({
      seccomp: { file: "/home/u/p.json" },
      given: ["seccomp=/home/u/p.json"],
    });
    expect(parse("seccomp=")).toMatch(/seccomp takes unconfined, builtin or a profile's path/);
  });

  it("accepts label=disable and apparmor=unconfined, and refuses other labels and profiles", () => {
    expect(parse("label=disable", "apparmor=unconfined", "label:disable")).toMatchObject({
      given: ["seccomp=builtin", "label=disable", "apparmor=unconfined", "label=disable"],
    });
    expect(parse("label=type:container_t")).toBe(
      "--security-opt label=type:container_t: rootless nook cannot apply SELinux labels (label=disable is accepted)",
    );
    expect(parse("apparmor=docker-default")).toBe(
      "--security-opt apparmor=docker-default: rootless nook cannot load AppArmor profiles (apparmor=unconfined is accepted)",
    );
  });

  it("takes mask= and unmask= path lists, with colons", () => {
    expect(parse("mask=/a:/b/../c", "unmask=/proc/*:/sys/firmware")).toMatchObject({
      mask: ["/a", "/c"],
      unmask: ["/proc/*", "/sys/firmware"],
    });
    expect(parse("unmask=ALL")).toMatchObject({ unmask: ["ALL"] });
    expect(parse("systempaths=unconfined")).toMatchObject({ unmask: ["ALL"] });
    expect(parse("mask=relative")).toBe("--security-opt mask=relative: relative is not an absolute path");
    expect(parse("mask=")).toMatch(/give one or more absolute paths/);
  });

  it("refuses what it does not know in one line", () => {
    expect(parse("seccompx=1")).toMatch(/^--security-opt seccompx=1: unknown option/);
  });
});

describe("masked and read-only paths", () => {
  const paths = (privileged: boolean, ...opts: string[]) => {
    const o = parse(...opts);
    if (typeof o === "string") throw new Error(o);
    return systemPaths(DEFAULTS, privileged, o);
  };

  it("are the defaults, plus mask=, minus unmask= (globs, ALL)", () => {
    expect(paths(false)).toEqual({ masked: MASKED_PATHS, readOnly: READONLY_PATHS });
    expect(paths(false, "mask=/opt/secret").masked).toEqual([...MASKED_PATHS, "/opt/secret"]);
    const some = paths(false, "unmask=/proc/*");
    expect(some.masked).toEqual(MASKED_PATHS.filter((p) => !p.startsWith("/proc/")));
    expect(some.readOnly).toEqual([]);
    expect(paths(false, "unmask=/proc/keys").masked).not.toContain("/proc/keys");
    expect(paths(false, "unmask=ALL")).toEqual({ masked: [], readOnly: [] });
  });

  it("are none with --privileged, but for what mask= asks", () => {
    expect(paths(true)).toEqual({ masked: [], readOnly: [] });
    expect(paths(true, "mask=/proc/kcore")).toEqual({ masked: ["/proc/kcore"], readOnly: [] });
  });
});

describe("--sysctl", () => {
  it("takes the IPC namespace's sysctls and the network namespace's", () => {
    expect(parseSysctl("kernel.shmmax=1024", "pasta")).toEqual({ name: "kernel.shmmax", value: "1024" });
    expect(parseSysctl("kernel.sem=250 32000 32 200", "none")).toEqual({
      name: "kernel.sem",
      value: "250 32000 32 200",
    });
    expect(parseSysctl("fs.mqueue.msg_max=20", "host")).toMatchObject({ name: "fs.mqueue.msg_max" });
    expect(parseSysctl("net/ipv4/ip_forward=1", "none")).toEqual({ name: "net.ipv4.ip_forward", value: "1" });
  });

  it("refuses net.* with the host's network, and what no namespace of the container holds, by name", () => {
    expect(parseSysctl("net.ipv4.ip_forward=1", "host")).toMatch(
      /^--sysctl net.ipv4.ip_forward: the container shares the host's network namespace/,
    );
    expect(parseSysctl("kernel.hostname=x", "none")).toMatch(
      /^--sysctl kernel.hostname: not a namespaced sysctl/,
    );
    expect(parseSysctl("vm.swappiness=1", "none")).toMatch(
      /^--sysctl vm.swappiness: not a namespaced sysctl/,
    );
    expect(parseSysctl("kernel.shmmax", "none")).toBe("--sysctl kernel.shmmax: expected NAME=VALUE");
    expect(parseSysctl("../../x=1", "none")).toBe("--sysctl ../../x=1: not a sysctl name");
  });
});
