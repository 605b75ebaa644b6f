// nook pull, images, image inspect, tag and rmi as the unprivileged test
// users, against the real registry the global setup seeded with umoci-built
// images. Layer trees are checked from inside the user's namespace with a
// script of the tests' own (test/support/dump-tree.py).
import { join } from "node:path";
import { afterEach, expect, inject, it } from "vitest";
import { describeAs } from "../support/nook.js";
import {
  dumpTree,
  dumpTreeOutside,
  expectBusyboxLayer,
  expectLayersStack,
  freshStore,
  stack,
  type TestStore,
  type TreeEntry,
} from "../support/store.js";

const registry = (): string => inject("registry");

interface Inspected {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Architecture: string;
  Os: string;
  Variant?: string;
  Size: number;
  Config: { Cmd?: string[]; User?: string; WorkingDir?: string };
  RootFS: { Layers: string[] };
}

const inspect = async (s: TestStore, image: string): Promise<Inspected> => {
  const r = await s.nook(["image", "inspect", image]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const [first] = JSON.parse(r.stdout) as Inspected[];
  return first!;
};

const layerTree = (s: TestStore, diffId: string): string =>
  join(s.dataHome, "nook", "layers", diffId.slice(7), "diff");

const layerDumps = async (s: TestStore, image: string): Promise<TreeEntry[][]> => {
  const info = await inspect(s, image);
  const out: TreeEntry[][] = [];
  for (const l of info.RootFS.Layers) out.push(await dumpTree(s, layerTree(s, l)));
  return out;
};

let stores: TestStore[] = [];
afterEach(async () => {
  await Promise.all(stores.map((s) => s.remove()));
  stores = [];
});
const newStore = async (u: Parameters<typeof freshStore>[0]): Promise<TestStore> => {
  const s = await freshStore(u);
  stores.push(s);
  return s;
};

describeAs("sub", "nook pull, user with subordinate ranges", (user) => {
  it("pulls busybox, prints Docker's summary, and lists it in nook images", async () => {
    const s = await newStore(user());
    const ref = `${registry()}/busybox`;
    const r = await s.nook(["pull", ref]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe(`Trying to pull ${registry()}/busybox...`);
    expect(lines).toContainEqual(expect.stringMatching(/^[0-9a-f]{12}: Pull complete$/));
    expect(lines.at(-3)).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);
    expect(lines.at(-2)).toBe(`Status: Downloaded newer image for ${ref}:latest`);
    expect(lines.at(-1)).toBe(`${ref}:latest`);

    const images = await s.nook(["images"]);
    expect(images.code).toBe(0);
    const [header, row] = images.stdout.trim().split("\n");
    expect(header).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(row).toMatch(
      new RegExp(`^${ref.replace(/\./g, "\\.")}\\s+latest\\s+[0-9a-f]{12}\\s+\\S.*\\s+\\d+(\\.\\d+)?[kM]B$`),
    );

    const info = await inspect(s, ref);
    expect(info.Config.Cmd).toEqual(["/bin/sh"]);
    expect(info.RepoTags).toEqual([`${ref}:latest`]);
    expect(info.RootFS.Layers).toHaveLength(1);
    const tree = await dumpTree(s, layerTree(s, info.RootFS.Layers[0]!));
    expectBusyboxLayer(tree);
  });

  it("says the image is up to date when pulled again, and downloads nothing", async () => {
    const s = await newStore(user());
    const ref = `${registry()}/busybox:latest`;
    expect((await s.nook(["pull", ref])).code).toBe(0);
    const again = await s.nook(["pull", ref]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/: Already exists\n/);
    expect(again.stdout).not.toMatch(/Pull complete/);
    expect(again.stdout).toContain(`Status: Image is up to date for ${ref}`);
  });

  it("unpacks the many-layer image with the image's owners, modes, links, whiteouts and opaque directory", async () => {
    const s = await newStore(user());
    const ref = `${registry()}/layers`;
    const r = await s.nook(["pull", "-q", ref]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${ref}:latest\n`);
    expectLayersStack(inject("fixtures"), stack(await layerDumps(s, ref)));
  });

  it("stores the image's owners as the user's subordinate ids on the host", async () => {
    const s = await newStore(user());
    const ref = `${registry()}/layers`;
    expect((await s.nook(["pull", "-q", ref])).code).toBe(0);
    const info = await inspect(s, ref);
    const outside = await dumpTreeOutside(s, layerTree(s, info.RootFS.Layers[1]!)).catch(() => []);
    // The user cannot enter data/app-dir (0700, owned by image uid 1000), but sees the rest.
    const [subStart] = user().subuid!.split(":").map(Number);
    const app = outside.find((e) => e.path === "data/app-file");
    expect(app).toMatchObject({ uid: subStart! + 1000 - 1, gid: expect.any(Number) });
    expect(outside.find((e) => e.path === "data/root-file")).toMatchObject({ uid: user().uid });
  });

  it("picks the host's platform from a multi-arch index, and another with --platform", async () => {
    const s = await newStore(user());
    const ref = `${registry()}/multiarch`;
    expect((await s.nook(["pull", "-q", ref])).code).toBe(0);
    const host = await inspect(s, ref);
    expect(host.Architecture).toBe(process.arch === "x64" ? "amd64" : process.arch);
    const arm = await s.nook(["pull", "-q", "--platform", "linux/arm64", ref]);
    expect(arm.stderr).toBe("");
    expect(arm.code).toBe(0);
    const armInfo = await inspect(s, ref);
    expect(armInfo.Architecture).toBe("arm64");
    const tree = await dumpTree(s, layerTree(s, armInfo.RootFS.Layers.at(-1)!));
    expect(tree.find((e) => e.path === "arch")?.content).toBe("arm64\n");
  });

  it("names the platforms an index has when none matches", async () => {
    const s = await newStore(user());
    const r = await s.nook(["pull", "--platform", "linux/s390x", `${registry()}/multiarch`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^nook: no image for linux\/s390x .*linux\/amd64.*linux\/arm64/);
    expect(r.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
  });

  it("pulls a Docker v2 schema 2 image, storing the layer it shares with an OCI image once", async () => {
    const s = await newStore(user());
    expect((await s.nook(["pull", "-q", `${registry()}/busybox`])).code).toBe(0);
    const r = await s.nook(["pull", `${registry()}/busybox-docker`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: Already exists\n/);
    const a = await inspect(s, `${registry()}/busybox`);
    const b = await inspect(s, `${registry()}/busybox-docker`);
    expect(b.RootFS.Layers).toEqual(a.RootFS.Layers);
  });

  it("emits NDJSON progress events with --format json", async () => {
    const s = await newStore(user());
    const r = await s.nook(["pull", "--format", "json", `${registry()}/busybox`]);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; status?: string });
    expect(events[0]).toMatchObject({ event: "trying" });
    expect(events.some((e) => e.event === "layer" && e.status === "done")).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: "done", id: expect.stringMatching(/^sha256:/) });
  });

  it("fails in one line for an unknown tag and for a malformed reference", async () => {
    const s = await newStore(user());
    const missing = await s.nook(["pull", `${registry()}/busybox:nope`]);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(/^nook: .*busybox:nope: manifest unknown/);
    expect(missing.stderr.split("\n").filter((l) => l).length).toBeLessThanOrEqual(2);
    const bad = await s.nook(["pull", "Busy Box"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^nook: invalid reference "Busy Box"/);
  });

  it("keeps one copy when two processes pull the same image at once", async () => {
    const s = await newStore(user());
    const ref = `${registry()}/layers`;
    const [a, b] = await Promise.all([s.nook(["pull", "-q", ref]), s.nook(["pull", "-q", ref])]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, "", ""]);
    const images = await s.nook(["images", "-q"]);
    expect(images.stdout.trim().split("\n")).toHaveLength(1);
    const tmp = await dumpTree(s, join(s.dataHome, "nook", "tmp"));
    expect(tmp).toEqual([]);
  });

  it("tags, and removes tags, images and the layers no other image uses", async () => {
    const s = await newStore(user());
    const bb = `${registry()}/busybox`;
    const layers = `${registry()}/layers`;
    expect((await s.nook(["pull", "-q", bb])).code).toBe(0);
    expect((await s.nook(["pull", "-q", layers])).code).toBe(0);
    expect((await s.nook(["tag", bb, "mine:1"])).code).toBe(0);
    const both = await inspect(s, "mine:1");
    expect(both.RepoTags.sort()).toEqual([`${bb}:latest`, "mine:1"].sort());

    const byId = await s.nook(["rmi", both.Id.slice(7, 19)]);
    expect(byId.code).toBe(125);
    expect(byId.stderr).toMatch(/referenced in multiple repositories/);

    const untag = await s.nook(["rmi", "mine:1"]);
    expect(untag.stdout).toBe("Untagged: mine:1\n");
    const layersInfo = await inspect(s, layers);
    const rm = await s.nook(["rmi", layers]);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain(`Untagged: ${layers}:latest\nDeleted: ${layersInfo.Id}\n`);
    // busybox's layer is layers' first: it stays; the other four go.
    const left = await dumpTree(s, join(s.dataHome, "nook", "layers"));
    const dirs = left.filter((e) => !e.path.includes("/")).map((e) => `sha256:${e.path}`);
    expect(dirs).toEqual([layersInfo.RootFS.Layers[0]]);
    const gone = await s.nook(["image", "inspect", layers]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`nook: no such image: ${layers}\n`);
  });
});

describeAs("nosub", "nook pull, user without subordinate ranges", (user) => {
  it("pulls the many-layer image with every file owned by the user, recording the image's owners", async () => {
    const s = await newStore(user());
    const ref = `${registry()}/layers`;
    const r = await s.nook(["pull", "-q", ref]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const dumps = await layerDumps(s, ref);
    for (const e of dumps.flat()) expect([e.uid, e.gid], e.path).toEqual([0, 0]);
    const app = dumps[1]!.find((e) => e.path === "data/app-file");
    expect(app?.xattrs?.["user.containers.override_stat"]).toBe("1000:1000:0600");
    const suid = dumps[1]!.find((e) => e.path === "data/setuid");
    expect(suid?.mode).toBe(0o4755);
  });
});
