// --userns=keep-id, --bind-home and --bind-cwd as the unprivileged test
// users: who the process is inside, which owners the image's files show, and
// what lands on the host through the binds.
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, nook, runAs } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";

const bb = (): string => `${inject("registry")}/busybox`;
const layersImage = (): string => `${inject("registry")}/layers`;

const mapLines = (text: string): string[][] =>
  text
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/));

describeAs("sub", "nook run --userns=keep-id, user with subordinate ranges", (user) => {
  let s: TestStore;
  let work: string;
  beforeAll(async () => {
    s = await freshStore(user());
    for (const image of [bb(), layersImage()]) expect((await s.nook(["pull", "-q", image])).code).toBe(0);
    work = (await runAs(user(), ["mktemp", "-d", "/tmp/nook-keepid-XXXXXX"])).stdout.trim();
  });
  afterAll(async () => {
    await runAs(user(), ["rm", "-rf", work]);
    await s.remove();
  });

  it("runs as your own uid and gid, with your ids mapped to themselves and the ranges around them", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "--userns=keep-id",
      bb(),
      "sh",
      "-c",
      "id -u; id -g; id -un; cat /proc/self/uid_map",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [uid, gid, name, ...map] = r.stdout.trim().split("\n");
    expect([uid, gid, name]).toEqual([String(user().uid), String(user().gid), user().name]);
    const [start = 0, count = 0] = user().subuid!.split(":").map(Number);
    const u = user().uid;
    expect(mapLines(map.join("\n"))).toEqual([
      ["0", String(start), String(u)],
      [String(u), String(u), "1"],
      [String(u + 1), String(start + u), String(count - u)],
    ]);
  });

  it("shows the image's files with the image's owners, through fuse-overlayfs", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "--userns=keep-id",
      layersImage(),
      "sh",
      "-c",
      "stat -c '%u:%g %a %n' /data/app-file /data/daemon-file /data/setuid /data/nobody-file /bin; grep -c fuse /proc/mounts",
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual([
      "1000:1000 600 /data/app-file",
      "1:1 640 /data/daemon-file",
      "0:0 4755 /data/setuid",
      "65534:65534 644 /data/nobody-file",
      "0:0 755 /bin",
      "1",
    ]);
  });

  it("can still run as root with -u 0, whose files are root's inside", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "--userns=keep-id",
      "-u",
      "0",
      bb(),
      "sh",
      "-c",
      "id -u; touch /etc/made && stat -c %u:%g /etc/made",
    ]);
    expect(r.stdout).toBe("0\n0:0\n");
  });

  it("--bind-home and --bind-cwd: your directories at their own paths, files you make are yours on the host", async () => {
    const r = await nook(
      user(),
      [
        "run",
        "--rm",
        "--bind-home",
        "--bind-cwd",
        bb(),
        "sh",
        "-c",
        'pwd; echo "$HOME"; ls -d "$HOME" >/dev/null && echo home-ok; echo made > made-inside; stat -c %u made-inside',
      ],
      { env: s.env, cwd: work },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual([work, user().home, "home-ok", String(user().uid)]);
    const made = statSync(join(work, "made-inside"));
    expect([made.uid, made.gid]).toEqual([user().uid, user().gid]);
  });

  it("refuses keep-id on kernel overlay, which would show the image under other owners, in one line", async () => {
    const r = await s.nook(["run", "--rm", "--userns=keep-id", "--storage-driver", "overlay", bb(), "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr.split("\n")[0]).toBe(
      "nook: --userns=keep-id cannot run on --storage-driver overlay: it would show the image's files under other owners",
    );
  });

  it("refuses an unknown --userns mode", async () => {
    const r = await s.nook(["run", "--rm", "--userns=auto", bb(), "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr.split("\n")[0]).toBe("nook: --userns takes host or keep-id, not auto");
  });
});

describeAs("nosub", "nook run --userns=keep-id, user without subordinate ranges", (user) => {
  let s: TestStore;
  beforeAll(async () => {
    s = await freshStore(user());
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
  });
  afterAll(async () => s.remove());

  it("maps your one id to itself, on kernel overlay, with the image's files yours", async () => {
    const r = await s.nook([
      "run",
      "--rm",
      "--userns=keep-id",
      bb(),
      "sh",
      "-c",
      "id -u; cat /proc/self/uid_map; stat -c %u /bin; touch /tmp/f && stat -c %u /tmp/f",
    ]);
    expect(r.stderr).toBe("");
    const [uid, map, bin, made] = r.stdout.trim().split("\n");
    const u = String(user().uid);
    expect(uid).toBe(u);
    expect(mapLines(map ?? "")).toEqual([[u, u, "1"]]);
    expect([bin, made]).toEqual([u, u]);
  });

  it("says in one line that root does not exist under keep-id without ranges", async () => {
    const r = await s.nook(["run", "--rm", "--userns=keep-id", "-u", "0", bb(), "id"]);
    expect(r.code).toBe(125);
    expect(r.stderr.split("\n")[0]).toBe(
      `nook: cannot run as 0:0: you have no subordinate ids, so only your own id exists in the container (as ${user().uid}:${user().gid})`,
    );
  });
});
