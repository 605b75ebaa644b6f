// nook unshare, as real unprivileged users with the real setuid newuidmap.
import { copyFileSync, mkdtempSync, chmodSync, rmSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeAs, nook, nookBin, runAs } from "../support/nook.js";
import { isRoot } from "../support/users.js";

const mapLines = (text: string): string[] =>
  text
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).join(" "));

/** A directory the test user can read, holding copies of newuidmap/newgidmap without their privileges. */
const unprivilegedIdmapTools = (): string => {
  const dir = mkdtempSync("/tmp/nook-idmap-");
  chmodSync(dir, 0o755);
  for (const tool of ["newuidmap", "newgidmap"]) {
    copyFileSync(`/usr/bin/${tool}`, join(dir, tool)); // a copy drops setuid and file capabilities
    chmodSync(join(dir, tool), 0o755);
  }
  return dir;
};

describeAs("sub", "nook unshare, user with subordinate ranges", (user) => {
  it("maps the user's own id to 0 and the whole subuid range after it", async () => {
    const u = user();
    const r = await nook(u, ["unshare", "cat", "/proc/self/uid_map", "/proc/self/gid_map"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [subuidStart, subuidCount] = u.subuid!.split(":");
    const [subgidStart, subgidCount] = u.subgid!.split(":");
    expect(mapLines(r.stdout)).toEqual([
      `0 ${u.uid} 1`,
      `1 ${subuidStart} ${subuidCount}`,
      `0 ${u.gid} 1`,
      `1 ${subgidStart} ${subgidCount}`,
    ]);
  });

  it("accepts -- before the command and runs it as root of the namespace", async () => {
    const r = await nook(user(), ["unshare", "--", "sh", "-c", "id -u; id -g; cat /proc/self/setgroups"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, 3)).toEqual(["0", "0", "allow"]);
  });

  it("gives files chowned inside the namespace to the subordinate ids outside", async () => {
    const u = user();
    const dir = (await runAs(u, ["mktemp", "-d", "/tmp/nook-chown-XXXXXX"])).stdout.trim();
    try {
      const r = await nook(u, ["unshare", "sh", "-c", `touch ${dir}/f && chown 1:2 ${dir}/f`]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const st = statSync(join(dir, "f"));
      expect(st.uid).toBe(Number(u.subuid!.split(":")[0]));
      expect(st.gid).toBe(Number(u.subgid!.split(":")[0]) + 1);
    } finally {
      await nook(u, ["unshare", "rm", "-rf", dir]);
    }
  });

  it("passes the command's exit status and death by signal on", async () => {
    expect((await nook(user(), ["unshare", "sh", "-c", "exit 7"])).code).toBe(7);
    expect((await nook(user(), ["unshare", "sh", "-c", "kill -TERM $$"])).code).toBe(128 + 15);
  });

  it("names the failed step and errno when the command cannot be executed", async () => {
    const r = await nook(user(), ["unshare", "/nonexistent/cmd"]);
    expect(r.code).toBe(127);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("nook: exec /nonexistent/cmd: No such file or directory (ENOENT)\n");
  });

  it("names the failed step and errno when the kernel refuses the user namespace", async () => {
    // Root of an outer user namespace lowers its own limit of nested user
    // namespaces to 0, so the helper's unshare(CLONE_NEWUSER) really fails.
    const r = await runAs(user(), [
      "unshare",
      "--user",
      "--map-root-user",
      "sh",
      "-c",
      'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"',
      "sh",
      process.execPath,
      nookBin(),
      "unshare",
      "/bin/true",
    ]);
    expect(r.code).toBe(125);
    const [line, hint, end] = r.stderr.split("\n");
    expect(line).toBe("nook: unshare user namespace: No space left on device (ENOSPC)");
    expect(hint).toMatch(/^hint: .*user\.max_user_namespaces/);
    expect(end).toBe("");
  });

  describeAs("sub", "newuidmap problems", () => {
    let tools = "";
    beforeAll(() => {
      tools = unprivilegedIdmapTools();
    });
    afterAll(() => rmSync(tools, { recursive: true, force: true }));

    it("says so in one line, with the fix, when newuidmap is not in PATH", async () => {
      const r = await nook(user(), ["unshare", "/bin/true"], { path: "/nonexistent" });
      expect(r.code).toBe(125);
      expect(r.stderr.split("\n")).toEqual([
        "nook: newuidmap not found in PATH",
        expect.stringMatching(/^hint: install it: apt-get install uidmap/),
        "",
      ]);
    });

    it("says so when newuidmap is neither setuid nor file-capable", async () => {
      const r = await nook(user(), ["unshare", "/bin/true"], { path: tools });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(
        new RegExp(
          `^nook: ${tools}/newuidmap is neither setuid root nor has file capabilities, so it cannot map subordinate ids\nhint: as root: chmod u\\+s `,
        ),
      );
      expect(r.stderr.split("\n")).toHaveLength(3);
    });

    it.skipIf(!isRoot())("accepts a newuidmap with file capabilities instead of setuid", async () => {
      const capable = unprivilegedIdmapTools();
      try {
        execFileSync("setcap", ["cap_setuid+ep", join(capable, "newuidmap")]);
        execFileSync("setcap", ["cap_setgid+ep", join(capable, "newgidmap")]);
        const r = await nook(user(), ["unshare", "/bin/cat", "/proc/self/uid_map"], { path: capable });
        expect(r.stderr).toBe("");
        expect(mapLines(r.stdout)[1]).toBe(`1 ${user().subuid!.replace(":", " ")}`);
      } finally {
        rmSync(capable, { recursive: true, force: true });
      }
    });
  });
});

describeAs("nosub", "nook unshare, user without subordinate ranges", (user) => {
  it("maps only the user's own uid and gid, with setgroups denied", async () => {
    const u = user();
    const r = await nook(u, [
      "unshare",
      "sh",
      "-c",
      "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(mapLines(r.stdout)).toEqual([`0 ${u.uid} 1`, `0 ${u.gid} 1`, "deny", "0"]);
  });

  it("does not need newuidmap at all", async () => {
    const r = await nook(user(), ["unshare", "/bin/cat", "/proc/self/uid_map"], { path: "/nonexistent" });
    expect(r.code).toBe(0);
    expect(mapLines(r.stdout)).toEqual([`0 ${user().uid} 1`]);
  });
});
