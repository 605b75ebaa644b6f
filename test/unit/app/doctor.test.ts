// nook doctor's verdicts on hosts this machine is not: Ubuntu's AppArmor
// restriction, a zeroed namespace limit, half a subid entry, overlapping
// ranges, cgroup v2 without delegation, a store on NFS. The integration test
// (test/integration/doctor.test.ts) checks the facts on the real host.
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { formatChecks, healthy, judge, type Check, type DoctorFacts } from "../../../src/app/doctor.js";

const good: DoctorFacts = {
  user: "alice",
  uid: 1000,
  kernel: "6.8.0",
  sysctls: { maxUserNamespaces: 63000, unprivilegedClone: undefined, apparmorRestrict: undefined },
  userns: E.right(undefined),
  helper: { path: "/opt/nook/dist/nook-helper", executable: true },
  subids: {
    uids: [{ start: 100000, count: 65536 }],
    gids: [{ start: 100000, count: 65536 }],
    from: "/etc/subuid and /etc/subgid",
  },
  overlaps: [],
  plan: E.right({
    kind: "subid",
    uids: [
      { inside: 0, outside: 1000, count: 1 },
      { inside: 1, outside: 100000, count: 65536 },
    ],
    gids: [
      { inside: 0, outside: 1000, count: 1 },
      { inside: 1, outside: 100000, count: 65536 },
    ],
  }),
  newuidmap: E.right("/usr/bin/newuidmap"),
  newgidmap: E.right("/usr/bin/newgidmap"),
  idmap: E.right(undefined),
  xdgRuntimeDir: "/run/user/1000",
  xdgVerdict: { kind: "own" },
  xdgMode: 0o700,
  runtime: E.right({ path: "/run/user/1000/nook", why: "$XDG_RUNTIME_DIR/nook" }),
  store: E.right({ path: "/home/alice/.local/share/nook", why: "~/.local/share/nook" }),
  storeFs: {
    path: "/home/alice",
    type: "ext4",
    network: false,
    freeBytes: 50 * 2 ** 30,
    totalBytes: 100 * 2 ** 30,
    freeInodes: 1e6,
    totalInodes: 2e6,
  },
  overlay: true,
  devFuse: true,
  fuseOverlayfs: "/usr/bin/fuse-overlayfs",
  network: { pasta: "/usr/bin/pasta", slirp4netns: undefined },
  devNetTun: true,
  cgroups: {
    version: "v2",
    filesystem: "cgroup2",
    own: "/user.slice/user-1000.slice/session-2.scope",
    delegated: {
      path: "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service",
      owned: true,
      controllers: ["cpu", "io", "memory", "pids"],
      subtreeControl: ["cpu", "memory", "pids"],
    },
  },
  bus: { path: "/run/user/1000/bus", from: "$XDG_RUNTIME_DIR/bus" },
  linger: { systemd: true, linger: true },
  nofile: { soft: 1024, hard: 524288 },
};

const byId = (checks: Check[], id: string): Check => {
  const c = checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
};

describe("nook doctor's verdicts", () => {
  it("finds nothing wrong on a well set-up workstation", () => {
    const checks = judge(good);
    expect(checks.filter((c) => c.status !== "ok")).toEqual([]);
    expect(healthy(checks)).toBe(true);
    expect(checks.every((c) => c.fix === undefined)).toBe(true);
  });

  it("gives Ubuntu 24.04's AppArmor restriction an AppArmor profile as the fix", () => {
    const f = {
      ...good,
      sysctls: { ...good.sysctls, apparmorRestrict: "1" },
      userns: E.left("unshare user namespace: Permission denied (EPERM)"),
      idmap: undefined,
    };
    const checks = judge(f);
    const c = byId(checks, "userns");
    expect(c).toMatchObject({ status: "fail", required: true });
    expect(c.evidence).toContain("kernel.apparmor_restrict_unprivileged_userns=1");
    expect(c.fix).toContain("profile nook-helper /opt/nook/dist/nook-helper flags=(unconfined)");
    expect(c.fix).toContain("userns,");
    expect(byId(checks, "idmap").evidence).toMatch(/^not tried/);
    expect(healthy(checks)).toBe(false);
  });

  it("names the sysctl when the namespace limit is 0, and Debian's knob when it is off", () => {
    const zero = judge({
      ...good,
      sysctls: { ...good.sysctls, maxUserNamespaces: 0 },
      userns: E.left("ENOSPC"),
    });
    expect(byId(zero, "userns").fix).toMatch(/sysctl -w user\.max_user_namespaces=28633/);
    const debian = judge({
      ...good,
      sysctls: { ...good.sysctls, unprivilegedClone: "0" },
      userns: E.left("EPERM"),
    });
    expect(byId(debian, "userns").fix).toMatch(/sysctl -w kernel\.unprivileged_userns_clone=1/);
  });

  it("warns without ranges (single-id map), and then needs no newuidmap", () => {
    const f = {
      ...good,
      subids: { uids: [], gids: [], from: "/etc/subuid and /etc/subgid" },
      newuidmap: E.left({
        _tag: "IdMapToolMissing",
        message: "newuidmap not found in PATH",
        hint: "install",
      }),
    };
    const checks = judge(f);
    expect(byId(checks, "subids")).toMatchObject({ status: "warn", required: false });
    expect(byId(checks, "subids").fix).toMatch(
      /usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice/,
    );
    expect(byId(checks, "newuidmap")).toMatchObject({ status: "ok", required: false });
    expect(healthy(checks)).toBe(true);
  });

  it("fails on a uid range without a gid range, and on ranges another user shares", () => {
    const half = judge({ ...good, subids: { ...good.subids, gids: [] } });
    expect(byId(half, "subids")).toMatchObject({ status: "fail", required: true });
    const shared = judge({ ...good, overlaps: [["/etc/subuid", "bob:100000:65536"]] });
    expect(byId(shared, "subids").evidence).toMatch(/overlap bob:100000:65536 in \/etc\/subuid/);
    expect(healthy(shared)).toBe(false);
  });

  it("fails newuidmap with the tool's own fix when ranges need it", () => {
    const f = {
      ...good,
      newuidmap: E.left({
        _tag: "IdMapToolNotPrivileged",
        message: "/usr/bin/newuidmap is neither setuid root nor has file capabilities",
        hint: "as root: chmod u+s /usr/bin/newuidmap",
      }),
    };
    expect(byId(judge(f), "newuidmap")).toMatchObject({
      status: "fail",
      required: true,
      fix: "as root: chmod u+s /usr/bin/newuidmap",
    });
  });

  it("says what nook does without a login session or with another user's XDG_RUNTIME_DIR", () => {
    const none = judge({
      ...good,
      xdgRuntimeDir: undefined,
      xdgVerdict: undefined,
      runtime: E.right({ path: "/tmp/nook-1000", why: "" }),
    });
    expect(byId(none, "xdg-runtime-dir")).toMatchObject({ status: "warn", required: false });
    expect(byId(none, "xdg-runtime-dir").evidence).toMatch(/not set .* nook uses \/tmp\/nook-1000/);
    const root = judge({
      ...good,
      xdgRuntimeDir: "/run/user/0",
      xdgVerdict: { kind: "foreign", path: "/run/user/0", reason: "belongs to uid 0, not to you (1000)" },
    });
    expect(byId(root, "xdg-runtime-dir").evidence).toMatch(/belongs to uid 0.*nook ignores it/);
    const planted = judge({
      ...good,
      runtime: E.left("the runtime directory /tmp/nook-1000 cannot be used: it belongs to uid 1001"),
    });
    expect(byId(planted, "runtime-dir")).toMatchObject({ status: "fail", required: true });
  });

  it("warns about a store on NFS, and fails one that is nearly full", () => {
    const nfs = judge({ ...good, storeFs: { ...good.storeFs!, type: "nfs", network: true } });
    expect(byId(nfs, "store")).toMatchObject({ status: "warn" });
    expect(byId(nfs, "store").fix).toMatch(/--root \/var\/tmp\/nook-1000/);
    const full = judge({ ...good, storeFs: { ...good.storeFs!, freeBytes: 10 * 2 ** 20 } });
    expect(byId(full, "store")).toMatchObject({ status: "fail", required: true });
  });

  it("falls back to copy, and says so, without overlay or fuse-overlayfs", () => {
    const checks = judge({ ...good, overlay: false, fuseOverlayfs: undefined });
    expect(byId(checks, "overlay").status).toBe("warn");
    expect(byId(checks, "fuse-overlayfs").status).toBe("warn");
    expect(byId(checks, "storage-driver")).toMatchObject({
      status: "warn",
      evidence: expect.stringMatching(/^copy/),
    });
  });

  it("judges cgroups read-only: v1, and v2 without memory delegated", () => {
    const v1 = judge({
      ...good,
      cgroups: { version: "v1 or hybrid", filesystem: "tmpfs", own: undefined, delegated: undefined },
    });
    expect(byId(v1, "cgroups").fix).toMatch(/systemd\.unified_cgroup_hierarchy=1/);
    const partial = judge({
      ...good,
      cgroups: { ...good.cgroups, delegated: { ...good.cgroups.delegated!, controllers: ["pids"] } },
    });
    const c = byId(partial, "cgroup-delegation");
    expect(c.status).toBe("warn");
    expect(c.evidence).toMatch(/missing cpu, memory/);
    expect(c.fix).toMatch(/Delegate=cpu cpuset io memory pids/);
  });

  it("wants a user bus for the systemd cgroup manager, and linger under systemd", () => {
    const checks = judge({ ...good, bus: undefined, linger: { systemd: true, linger: false } });
    expect(byId(checks, "user-bus").status).toBe("warn");
    expect(byId(checks, "linger").fix).toBe("loginctl enable-linger alice");
  });

  it("prints one block per check, the fix indented under it, and a summary", () => {
    const text = formatChecks(judge({ ...good, network: { pasta: undefined, slirp4netns: undefined } }));
    expect(text).toContain(
      "warn   pasta or slirp4netns: neither is in PATH: containers get --network none (only lo) unless you give --network host\n       fix: apt-get install passt (or slirp4netns)\n",
    );
    expect(text).toMatch(/\n\n\d+ ok, 1 warning, 0 failed\n$/);
  });
});
