import { describe, expect, it } from "vitest";
import { containerOps, MASKED_PATHS, type ContainerSpec } from "../../../src/runtime/container-ops.js";
import { helperArgs } from "../../../src/runtime/helper.js";

const spec: ContainerSpec = {
  layersDir: "/s/layers",
  layers: ["aaa/diff", "bbb/diff"],
  dir: "/s/containers/c1",
  hostname: "box",
  network: "none",
  binds: [{ src: "/home/u/src", dst: "/src", readOnly: true }],
  tmpfs: [{ path: "/run", options: "mode=755" }],
  readOnly: false,
  uid: 1000,
  gid: 1000,
  groups: [1000, 10],
  workdir: "/data",
  removeAfter: true,
  driver: "overlay",
  init: false,
};

const kinds = (s: ContainerSpec): string[] => containerOps(s).map((o) => o.op);

describe("containerOps", () => {
  it("mounts the rootfs before the pid namespace's fork, and gives pid 1 a mount namespace of its own", () => {
    const ops = containerOps(spec);
    const unshares = ops
      .filter((o) => o.op === "unshare")
      .map((o) => (o.op === "unshare" ? o.namespaces : []));
    expect(unshares).toEqual([["mount", "ipc", "uts", "net"], ["pid"], ["mount"]]);
    const k = kinds(spec);
    expect(k.indexOf("overlay")).toBeLessThan(k.indexOf("unshare", 1 + k.indexOf("unshare")));
    expect(k.indexOf("proc")).toBeGreaterThan(k.lastIndexOf("unshare"));
  });

  it("lists the top layer first for overlayfs, relative to the store, and whole paths for fuse-overlayfs", () => {
    const overlay = containerOps(spec).find((o) => o.op === "overlay");
    expect(overlay).toMatchObject({
      dir: "/s/layers",
      lowers: ["bbb/diff", "aaa/diff"],
      target: "/s/containers/c1/merged",
    });
    const fuse = containerOps({ ...spec, driver: "fuse-overlayfs" }).find((o) => o.op === "fuse-overlay");
    expect(fuse).toMatchObject({ lowers: ["/s/layers/bbb/diff", "/s/layers/aaa/diff"] });
  });

  it("copies the layers into merged/ for the copy driver, top first, relative to the store, where the overlay would be", () => {
    const ops = containerOps({ ...spec, driver: "copy", readOnly: true });
    const k = ops.map((o) => o.op);
    expect(k).not.toContain("overlay");
    expect(k).not.toContain("fuse-overlay");
    expect(k.indexOf("copy-rootfs")).toBe(kinds(spec).indexOf("overlay"));
    const copy = ops.find((o) => o.op === "copy-rootfs");
    expect(copy).toEqual({
      op: "copy-rootfs",
      dir: "/s/layers",
      lowers: ["bbb/diff", "aaa/diff"],
      target: "/s/containers/c1/merged",
    });
    // Everything after the rootfs works on merged/ as it does over an overlay.
    expect(ops.find((o) => o.op === "remount-ro")).toEqual({
      op: "remount-ro",
      path: "/s/containers/c1/merged",
    });
    expect(ops.find((o) => o.op === "pivot")).toEqual({ op: "pivot", path: "/s/containers/c1/merged" });
    expect(helperArgs(copy ? [copy] : [], ["true"])).toEqual([
      "--sync-fd",
      "3",
      "--copy-rootfs",
      "/s/layers",
      "bbb/diff:aaa/diff",
      "/s/containers/c1/merged",
      "--",
      "true",
    ]);
  });

  it("binds into the new root before pivot_root, masks after it, and sets ids last", () => {
    const k = kinds(spec);
    const pivot = k.indexOf("pivot");
    expect(k.indexOf("ro-bind")).toBeLessThan(pivot);
    expect(k.indexOf("tmpfs")).toBeLessThan(pivot);
    expect(k.indexOf("mask")).toBeGreaterThan(pivot);
    expect(k.slice(-4)).toEqual(["groups", "caps", "setid", "chdir"]);
    const masks = containerOps(spec)
      .filter((o) => o.op === "mask")
      .map((o) => (o.op === "mask" ? o.path : ""));
    expect(masks).toEqual(MASKED_PATHS);
  });

  it("sets no_new_privs only when asked, after the ids", () => {
    expect(kinds(spec)).not.toContain("no-new-privs");
    expect(kinds({ ...spec, noNewPrivileges: true }).slice(-5)).toEqual([
      "groups",
      "caps",
      "setid",
      "no-new-privs",
      "chdir",
    ]);
  });

  it("keeps the default capabilities in the bounding set unless the spec names others", () => {
    const caps = (s: ContainerSpec) => containerOps(s).find((o) => o.op === "caps");
    expect(caps(spec)).toEqual({ op: "caps", mask: "800405fb" });
    expect(caps({ ...spec, capabilities: [] })).toEqual({ op: "caps", mask: "0" });
    expect(caps({ ...spec, capabilities: ["SYS_ADMIN", "CHOWN"] })).toEqual({ op: "caps", mask: "200001" });
  });

  it("orders the seccomp filter as runc: before the ids without no_new_privs, last with it", () => {
    const seccompFilter = { file: "/c/f.bpf", flags: 0 };
    expect(kinds({ ...spec, seccompFilter }).slice(-5)).toEqual([
      "groups",
      "caps",
      "seccomp",
      "setid",
      "chdir",
    ]);
    expect(kinds({ ...spec, seccompFilter, noNewPrivileges: true }).slice(-6)).toEqual([
      "groups",
      "caps",
      "setid",
      "no-new-privs",
      "chdir",
      "seccomp",
    ]);
    expect(kinds(spec)).not.toContain("seccomp");
  });

  it("writes sysctls after pivot_root, before /proc/sys turns read-only; binds devices after /dev", () => {
    const ops = containerOps({
      ...spec,
      sysctls: [{ name: "kernel.shmmax", value: "1" }],
      devices: ["/dev/fuse"],
      privileged: true,
      maskedPaths: [],
      readonlyPaths: ["/proc/sys"],
    });
    const k = ops.map((o) => o.op);
    expect(k.indexOf("sysctl")).toBe(k.indexOf("pivot") + 1);
    expect(k.indexOf("readonly")).toBeGreaterThan(k.indexOf("sysctl"));
    expect(k).not.toContain("mask");
    expect(ops[k.indexOf("dev") + 1]).toEqual({
      op: "bind",
      src: "/dev/fuse",
      dst: "/s/containers/c1/merged/dev/fuse",
    });
    expect(ops.find((o) => o.op === "sys")).toMatchObject({ rw: true });
    expect(containerOps(spec).find((o) => o.op === "sys")).toMatchObject({ rw: false });
  });

  it("keeps the host's network without net, and no groups for a single-id map", () => {
    const k = containerOps({ ...spec, network: "host", groups: undefined });
    expect(k[1]).toEqual({ op: "unshare", namespaces: ["mount", "ipc", "uts"] });
    expect(k.some((o) => o.op === "groups")).toBe(false);
  });

  it("puts --init and --tty after the hostname, before the user's ids, and read-only before pivot_root", () => {
    const k = kinds({ ...spec, init: true, tty: { rows: 24, cols: 80 }, readOnly: true });
    expect(k.indexOf("init")).toBeGreaterThan(k.indexOf("hostname"));
    expect(k.indexOf("tty")).toBe(k.indexOf("init") + 1);
    expect(k.indexOf("setid")).toBeGreaterThan(k.indexOf("tty"));
    expect(k.indexOf("remount-ro")).toBe(k.indexOf("pivot") - 1);
  });

  it("becomes the helper's argv", () => {
    const argv = helperArgs(containerOps(spec).slice(0, 4), ["true"]);
    expect(argv).toEqual([
      "--sync-fd",
      "3",
      "--rm-after",
      "/s/containers/c1",
      "--unshare",
      "mount,ipc,uts,net",
      "--mount-private",
      "--overlay",
      "/s/layers",
      "bbb/diff:aaa/diff",
      "/s/containers/c1/upper",
      "/s/containers/c1/work",
      "/s/containers/c1/merged",
      "--",
      "true",
    ]);
  });
});
