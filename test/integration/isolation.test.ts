// Two users on one machine: nook-sub's store, runtime directory, sockets and
// logs are its own and private, and nook-nosub cannot list, read, enter,
// stop or remove nook-sub's containers, neither with a guessed (the real)
// id nor by pointing XDG_DATA_HOME, NOOK_STORAGE or --root at nook-sub's
// store.
import { chmodSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, nook, runAs } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";
import { isRoot, NOSUB_USER, passwdEntry, type TestUser } from "../support/users.js";

const bb = (): string => `${inject("registry")}/busybox`;

const modeOf = (p: string): [number, string] => {
  const st = statSync(p);
  return [st.uid, (st.mode & 0o7777).toString(8)];
};

describeAs("sub", "isolation between users", (user) => {
  let s: TestStore;
  let other: TestUser;
  let theirs: TestStore;
  let id = "";

  beforeAll(async () => {
    if (!isRoot()) return;
    s = await freshStore(user());
    other = passwdEntry(NOSUB_USER);
    theirs = await freshStore(other);
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
    const r = await s.nook([
      "run",
      "-d",
      "--name",
      "private",
      "--network",
      "slirp4netns",
      bb(),
      "sh",
      "-c",
      "echo secret-output; exec sleep 1000",
    ]);
    expect(r.stderr).toBe("");
    id = r.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
  });
  afterAll(async () => {
    if (!isRoot()) return;
    await s.remove();
    await theirs.remove();
  });

  it.skipIf(!isRoot())(
    "keeps the store, runtime directory, sockets and logs private to their user",
    async () => {
      const u = user();
      const store = join(s.dataHome, "nook");
      const dir = join(store, "containers", id);
      expect(modeOf(store)).toEqual([u.uid, "700"]);
      for (const d of ["blobs", "layers", "images", "tags", "tmp", "containers"])
        expect(modeOf(join(store, d)), d).toEqual([u.uid, "700"]);
      expect(modeOf(dir)).toEqual([u.uid, "700"]);
      expect(modeOf(join(dir, "ctr.log"))).toEqual([u.uid, "600"]);
      expect(modeOf(join(dir, "attach"))).toEqual([u.uid, "600"]);
      expect(statSync(join(dir, "attach")).isSocket()).toBe(true);
      const runtime = `/tmp/nook-${u.uid}`;
      expect(modeOf(runtime)).toEqual([u.uid, "700"]);
      const sockets = readdirSync(runtime).filter((n) => n.startsWith(`slirp-${id.slice(0, 12)}`));
      expect(sockets).toHaveLength(1);
      // The other user's shell cannot look in, read the log, or connect to the socket.
      const peek = await runAs(other, ["sh", "-c", `ls ${store}; cat ${dir}/ctr.log; ls ${runtime}`]);
      expect(peek.stdout).toBe("");
      expect(peek.stderr.match(/Permission denied/g)).toHaveLength(3);
      // A store opened up by hand is made private again by the next nook.
      chmodSync(store, 0o755);
      expect((await s.nook(["images", "-q"])).code).toBe(0);
      expect(modeOf(store)).toEqual([u.uid, "700"]);
    },
  );

  it.skipIf(!isRoot())("gives the other user's nook nothing of them, even with the real id", async () => {
    const list = await theirs.nook(["ps", "-a", "--no-trunc", "-q"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe("");
    for (const verb of [
      ["logs", id],
      ["inspect", id],
      ["exec", id, "true"],
      ["stop", id],
      ["kill", id],
      ["rm", "-f", id],
      ["attach", id],
      ["port", id],
      ["top", id],
    ]) {
      const r = await theirs.nook(verb);
      expect(r.code, verb.join(" ")).not.toBe(0);
      expect(r.stdout, verb.join(" ")).not.toContain("secret-output");
      expect(r.stderr, verb.join(" ")).toMatch(/no such (container|object)/);
    }
    // Still running, untouched.
    const mine = await s.nook(["ps", "--no-trunc", "-q"]);
    expect(mine.stdout.trim()).toBe(id);
    expect((await s.nook(["logs", id])).stdout).toBe("secret-output\n");
  });

  it.skipIf(!isRoot())("refuses the other user's store, however it is pointed at", async () => {
    const u = user();
    const store = join(s.dataHome, "nook");
    const ways = (): [string, Promise<Awaited<ReturnType<typeof nook>>>][] => [
      ["XDG_DATA_HOME", nook(other, ["ps", "-a"], { env: { XDG_DATA_HOME: s.dataHome } })],
      ["NOOK_STORAGE", nook(other, ["ps", "-a"], { env: { NOOK_STORAGE: store } })],
      ["--root", nook(other, ["--root", store, "rm", "-f", id])],
      ["--root with images", nook(other, ["--root", store, "images"])],
    ];
    const expectRefused = async (reason: string): Promise<void> => {
      for (const [how, pending] of ways()) {
        const r = await pending;
        expect(r.code, how).toBe(125);
        expect(r.stdout, how).toBe("");
        expect(r.stderr.split("\n")[0], how).toBe(`nook: the store ${store} cannot be used: it ${reason}`);
      }
    };
    // The data home is private (mktemp): the other user cannot even look.
    await expectRefused("is in a directory you may not look into (EACCES)");
    // Opened up to a traversable one, nook still names the owner and refuses.
    chmodSync(s.dataHome, 0o711);
    try {
      await expectRefused(`belongs to uid ${u.uid}, not to you (${other.uid})`);
    } finally {
      chmodSync(s.dataHome, 0o700);
    }
    expect((await s.nook(["ps", "--no-trunc", "-q"])).stdout.trim()).toBe(id);
  });
});
