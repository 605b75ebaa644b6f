// nook load, save, image prune and system df as the unprivileged test users,
// against archives other tools wrote: skopeo's docker-archive of the busybox
// fixture, OCI archives and layouts skopeo made from the fixture layout, and
// broken copies of them made here with Python's tarfile. What nook saves is
// read back by skopeo, and the layer trees are checked with the tests' own
// dump script, as in pull.test.ts.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, inject, it } from "vitest";
import { describeAs, nookBin, runAs, type RunResult } from "../support/nook.js";
import {
  dumpTree,
  expectBusyboxLayer,
  expectLayersStack,
  freshStore,
  stack,
  type TestStore,
  type TreeEntry,
} from "../support/store.js";
import { isRoot } from "../support/users.js";

const registry = (): string => inject("registry");
const fixtures = (): string => inject("fixtures");

interface Inspected {
  Id: string;
  RepoTags: string[];
  Architecture: string;
  Config: { Cmd?: string[]; Env?: string[]; User?: string; WorkingDir?: string };
  RootFS: { Layers: string[] };
}

const sha256 = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

// ---------------------------------------------------------------- inputs

/** A directory every test user can read, with the archives the tests load. */
let work: string;

const BROKEN = `
import io, json, sys, tarfile
src, out, kind = sys.argv[1], sys.argv[2], sys.argv[3]
members = []
with tarfile.open(src) as t:
    for m in t.getmembers():
        members.append((m, t.extractfile(m).read() if m.isfile() else None))
manifest = json.loads([d for m, d in members if m.name == "manifest.json"][0])
layer = manifest[0]["Layers"][0]
def changed(d):
    b = bytearray(d); b[len(b) // 2] ^= 0xFF; return bytes(b)
if kind == "changed-layer":
    members = [(m, changed(d) if m.name == layer else d) for m, d in members]
elif kind == "changed-legacy":
    # Older docker save names layers <id>/layer.tar, not by digest: only the diff id can catch it.
    new = []
    for m, d in members:
        if m.name == layer:
            m = tarfile.TarInfo("0123legacy/layer.tar"); m.size = len(d); d = changed(d)
        if not m.issym():
            new.append((m, d))
    members = new
    manifest[0]["Layers"] = ["0123legacy/layer.tar"]
elif kind == "missing-layer":
    manifest[0]["Layers"] = ["f" * 64 + ".tar"]
elif kind == "outside":
    manifest[0]["Layers"] = ["../../../../etc/passwd"]
if kind in ("changed-legacy", "missing-layer", "outside"):
    data = json.dumps(manifest).encode()
    members = [(m, d) for m, d in members if m.name != "manifest.json"]
    m = tarfile.TarInfo("manifest.json"); m.size = len(data)
    members.append((m, data))
with tarfile.open(out, "w") as t:
    for m, d in members:
        if d is not None:
            m.size = len(d)
        t.addfile(m, io.BytesIO(d) if d is not None else None)
`;

const inWork = (name: string): string => join(work, name);

/** Owner and mode of NAME in whichever layer blob of an OCI archive holds it, read with Python's tarfile. */
const OWNERS = `
import io, sys, tarfile
with tarfile.open(sys.argv[1]) as outer:
    for m in outer.getmembers():
        if not m.name.startswith("blobs/sha256/") or not m.isfile():
            continue
        try:
            layer = tarfile.open(fileobj=io.BytesIO(outer.extractfile(m).read()), mode="r:")
            e = layer.getmember(sys.argv[2])
        except (tarfile.TarError, KeyError):
            continue
        print(f"{e.uid}:{e.gid} {e.mode:04o}")
`;

beforeAll(() => {
  work = mkdtempSync("/tmp/nook-load-");
  chmodSync(work, 0o755);
  const docker = inWork("busybox-docker.tar");
  copyFileSync(join(fixtures(), "busybox-docker.tar"), docker);
  const oci = join(fixtures(), "oci");
  const skopeo = (...args: string[]) => execFileSync("skopeo", ["copy", "--quiet", ...args]);
  // The many-layer image as an OCI archive: named "layers", and without a name.
  skopeo(`oci:${oci}:layers`, `oci-archive:${inWork("layers-oci.tar")}:layers`);
  skopeo(`oci:${oci}:layers`, `oci-archive:${inWork("layers-unnamed.tar")}`);
  // The multi-arch index as an OCI layout directory, every platform kept.
  skopeo("--all", `oci:${oci}:multiarch`, `oci:${inWork("multiarch")}:multi`);
  execFileSync("sh", ["-c", `gzip -c "$0" > "$1"`, docker, inWork("busybox-docker.tar.gz")]);
  for (const kind of ["changed-layer", "changed-legacy", "missing-layer", "outside"])
    execFileSync("python3", ["-c", BROKEN, docker, inWork(`${kind}.tar`), kind]);
  const whole = readFileSync(docker);
  writeFileSync(inWork("truncated.tar"), whole.subarray(0, Math.floor(whole.length / 2)));
  writeFileSync(inWork("not-an-archive.tar"), "this is not a tar archive\n".repeat(100));
  execFileSync("chmod", ["-R", "a+rX", work]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The docker archive's config (the image id is its digest) and its layers' diff ids. */
const dockerArchiveFacts = (file: string): { id: string; config: { rootfs: { diff_ids: string[] } } } => {
  const manifest = JSON.parse(execFileSync("tar", ["-xOf", file, "manifest.json"]).toString()) as {
    Config: string;
  }[];
  const bytes = execFileSync("tar", ["-xOf", file, manifest[0]!.Config]);
  return { id: sha256(bytes), config: JSON.parse(bytes.toString()) as { rootfs: { diff_ids: string[] } } };
};

// ---------------------------------------------------------------- running nook

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

/** `nook ARGS < file` as the store's user: the support's runAs gives no stdin. */
const nookWithStdin = (s: TestStore, args: readonly string[], file: string): Promise<RunResult> => {
  const env = { HOME: s.user.home, PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", ...s.env };
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const argv = ["/usr/bin/env", "-i", ...envArgs, process.execPath, nookBin(), ...args];
  const [cmd, cmdArgs] = isRoot()
    ? ["runuser", ["-u", s.user.name, "--", ...argv]]
    : [argv[0]!, argv.slice(1)];
  const fd = openSync(file, "r");
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, { cwd: "/", stdio: [fd, "pipe", "pipe"] });
    closeSync(fd);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
};

/** `nook ARGS > file` as the store's user (save's binary output, which RunResult cannot hold). */
const nookToFile = (s: TestStore, args: readonly string[], file: string): Promise<RunResult> =>
  runAs(
    s.user,
    ["sh", "-c", 'out=$1; shift; exec "$@" > "$out"', "sh", file, process.execPath, nookBin(), ...args],
    {
      env: s.env,
      timeoutMs: 120_000,
    },
  );

const ok = (r: RunResult): RunResult => {
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r;
};

const inspect = async (s: TestStore, image: string): Promise<Inspected> => {
  const r = ok(await s.nook(["image", "inspect", image]));
  return (JSON.parse(r.stdout) as Inspected[])[0]!;
};

const layerTree = (s: TestStore, diffId: string): string =>
  join(s.dataHome, "nook", "layers", diffId.slice(7), "diff");

/** Each layer's tree, with inode numbers replaced by the first path of their link group (stores differ in inodes). */
const layerDumps = async (s: TestStore, image: string): Promise<TreeEntry[][]> => {
  const info = await inspect(s, image);
  const out: TreeEntry[][] = [];
  for (const l of info.RootFS.Layers) {
    const entries = await dumpTree(s, layerTree(s, l));
    const first = new Map<number, string>();
    for (const e of entries) if (!first.has(e.ino)) first.set(e.ino, e.path);
    out.push(entries.map((e) => ({ ...e, ino: 0, link: first.get(e.ino) }) as TreeEntry));
  }
  return out;
};

/** Modification times of a layer's entries, as namespace root sees them. */
const mtimes = async (s: TestStore, diffId: string): Promise<string> => {
  const r = await s.nook(["unshare", "find", layerTree(s, diffId), "-mindepth", "1", "-printf", "%P %T@\n"]);
  expect(r.code).toBe(0);
  return r.stdout.split("\n").sort().join("\n");
};

/** Nothing loaded: no image, no layer, nothing left under tmp/. */
const expectEmptyStore = async (s: TestStore): Promise<void> => {
  const images = ok(await s.nook(["images", "-q"]));
  expect(images.stdout).toBe("");
  for (const d of ["layers", "tmp", "images", "tags"])
    expect(await dumpTree(s, join(s.dataHome, "nook", d)), `${d}/ should be empty`).toEqual([]);
};

// ---------------------------------------------------------------- tests

describeAs("sub", "nook load, save, image prune, system df, user with subordinate ranges", (user) => {
  it("loads the docker save archive skopeo wrote, with its tag, config and layer tree", async () => {
    const s = await newStore(user());
    const archive = inWork("busybox-docker.tar");
    const r = ok(await s.nook(["load", "-i", archive]));
    expect(r.stdout).toBe("Loaded image: busybox:latest\n");
    const images = ok(await s.nook(["images"]));
    expect(images.stdout).toMatch(/\nbusybox\s+latest\s+[0-9a-f]{12}\s/);
    const facts = dockerArchiveFacts(archive);
    const info = await inspect(s, "busybox");
    expect(info.Id).toBe(facts.id);
    expect(info.RepoTags).toEqual(["busybox:latest"]);
    expect(info.Config.Cmd).toEqual(["/bin/sh"]);
    expect(info.RootFS.Layers).toEqual(facts.config.rootfs.diff_ids);
    const tree = await dumpTree(s, layerTree(s, info.RootFS.Layers[0]!));
    expectBusyboxLayer(tree);
    expect(await dumpTree(s, join(s.dataHome, "nook", "tmp"))).toEqual([]);
  });

  it("loads from stdin, plain and gzip-compressed", async () => {
    const s = await newStore(user());
    const plain = await nookWithStdin(s, ["load"], inWork("busybox-docker.tar"));
    expect([plain.code, plain.stderr, plain.stdout]).toEqual([0, "", "Loaded image: busybox:latest\n"]);
    ok(await s.nook(["rmi", "busybox"]));
    const gz = await nookWithStdin(s, ["image", "load", "-q"], inWork("busybox-docker.tar.gz"));
    expect([gz.code, gz.stderr, gz.stdout]).toEqual([0, "", "Loaded image: busybox:latest\n"]);
  });

  it("loads skopeo's OCI archive of the many-layer image under podman's name for it, onto a layer it already has", async () => {
    const s = await newStore(user());
    ok(await s.nook(["load", "-i", inWork("busybox-docker.tar")]));
    const r = ok(await s.nook(["load", "-i", inWork("layers-oci.tar")]));
    // ref.name "layers" has no registry: podman load names it localhost/layers:latest.
    expect(r.stdout).toBe("Loaded image: localhost/layers:latest\n");
    const info = await inspect(s, "localhost/layers");
    expect(info.Config).toMatchObject({ User: "1000:1000", WorkingDir: "/data" });
    expect(info.RootFS.Layers).toHaveLength(5);
    expect(info.RootFS.Layers[0]).toBe((await inspect(s, "busybox")).RootFS.Layers[0]);
    expectLayersStack(fixtures(), stack(await layerDumps(s, "localhost/layers")));
  });

  it("loads an OCI archive without a name untagged, printing its id", async () => {
    const s = await newStore(user());
    const r = ok(await s.nook(["load", "-i", inWork("layers-unnamed.tar")]));
    const id = /^Loaded image ID: (sha256:[0-9a-f]{64})\n$/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    const images = ok(await s.nook(["images"]));
    expect(images.stdout).toMatch(new RegExp(`\\n<none>\\s+<none>\\s+${id!.slice(7, 19)}\\s`));
  });

  it("loads an OCI layout directory, picking this host's platform from its index", async () => {
    const s = await newStore(user());
    const r = ok(await s.nook(["load", "-i", inWork("multiarch")]));
    expect(r.stdout).toBe("Loaded image: localhost/multi:latest\n");
    const info = await inspect(s, "localhost/multi");
    expect(info.Architecture).toBe(process.arch === "x64" ? "amd64" : process.arch);
  });

  for (const [name, file, message] of [
    [
      "a layer whose bytes were changed",
      "changed-layer.tar",
      /^nook: archive \S+: \S+\.tar has digest sha256:\S+, not sha256:\S+: refusing it$/,
    ],
    [
      "a layer under a legacy name whose bytes were changed (diff id mismatch)",
      "changed-legacy.tar",
      /^nook: archive \S+: 0123legacy\/layer\.tar unpacks to diff id sha256:\S+, but the image config says sha256:\S+$/,
    ],
    ["manifest.json naming a missing file", "missing-layer.tar", /which the archive does not have$/],
    ["manifest.json naming a file outside the archive", "outside.tar", /which is outside the archive$/],
    ["a truncated archive", "truncated.tar", /^nook: archive \S+ (ends inside|is not a valid tar archive)/],
    ["a file that is no archive", "not-an-archive.tar", /^nook: archive \S+ is not a tar archive$/],
  ] as const)
    it(`refuses ${name} in one line, leaving nothing in the store`, async () => {
      const s = await newStore(user());
      const r = await s.nook(["load", "-i", inWork(file)]);
      expect(r.code).toBe(125);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
      await expectEmptyStore(s);
    });

  it("refuses a missing -i file in one line", async () => {
    const s = await newStore(user());
    const r = await s.nook(["load", "-i", inWork("nope.tar")]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`nook: open ${inWork("nope.tar")}: no such file or directory\n`);
  });

  it("saves a pulled image as a docker archive skopeo reads, which loads back with the same config and files", async () => {
    const s = await newStore(user());
    const ref = `${registry()}/busybox`;
    ok(await s.nook(["pull", "-q", ref]));
    const before = await inspect(s, ref);
    const trees = await layerDumps(s, ref);
    const out = join(s.dataHome, "busybox.tar");
    ok(await s.nook(["save", "-o", out, ref]));

    // An independent reader, and the archive's own digests.
    const skopeo = JSON.parse(execFileSync("skopeo", ["inspect", `docker-archive:${out}`]).toString()) as {
      Layers: string[];
      Architecture: string;
    };
    const facts = dockerArchiveFacts(out);
    expect(skopeo.Layers).toEqual(facts.config.rootfs.diff_ids);
    expect(skopeo.Layers).toHaveLength(1);
    const manifest = JSON.parse(execFileSync("tar", ["-xOf", out, "manifest.json"]).toString()) as {
      RepoTags: string[];
      Layers: string[];
    }[];
    expect(manifest[0]!.RepoTags).toEqual([`${ref}:latest`]);
    expect(sha256(execFileSync("tar", ["-xOf", out, manifest[0]!.Layers[0]!], { maxBuffer: 1 << 28 }))).toBe(
      skopeo.Layers[0],
    );

    ok(await s.nook(["rmi", ref]));
    const r = ok(await s.nook(["load", "-i", out]));
    expect(r.stdout).toBe(`Loaded image: ${ref}:latest\n`);
    const after = await inspect(s, ref);
    expect(after.Config).toEqual(before.Config);
    // The layer was packed again: a new diff id, so a new image id, named in the archive.
    expect(after.Id).toBe(facts.id);
    expect(after.RootFS.Layers).toEqual(skopeo.Layers);
    expect(await layerDumps(s, ref)).toEqual(trees);
  });

  it("saves as an OCI archive skopeo reads and copies, which loads back with the same config", async () => {
    const s = await newStore(user());
    const ref = `${registry()}/busybox`;
    ok(await s.nook(["pull", "-q", ref]));
    const before = await inspect(s, ref);
    const out = join(s.dataHome, "busybox-oci.tar");
    ok(await s.nook(["image", "save", "--format", "oci-archive", "-o", out, ref]));
    const skopeo = JSON.parse(execFileSync("skopeo", ["inspect", `oci-archive:${out}`]).toString()) as {
      Layers: string[];
    };
    expect(skopeo.Layers).toHaveLength(1);
    // skopeo copy checks every blob against its digest.
    const copied = mkdtempSync("/tmp/nook-oci-copy-");
    try {
      execFileSync("skopeo", ["copy", "--quiet", `oci-archive:${out}`, `oci:${copied}:x`]);
    } finally {
      rmSync(copied, { recursive: true, force: true });
    }
    ok(await s.nook(["rmi", ref]));
    const r = ok(await s.nook(["load", "-i", out]));
    expect(r.stdout).toBe(`Loaded image: ${ref}:latest\n`);
    const after = await inspect(s, ref);
    expect(after.Config).toEqual(before.Config);
    expect(after.RootFS.Layers).toEqual(skopeo.Layers);
  });

  it("saves the many-layer image so that every layer loads back the same: owners, whiteouts, opaque, links, mtimes", async () => {
    const s = await newStore(user());
    ok(await s.nook(["load", "-i", inWork("layers-oci.tar")]));
    const image = "localhost/layers";
    const out = join(s.dataHome, "layers.tar");
    ok(await s.nook(["save", "-o", out, image]));
    const trees = await layerDumps(s, image);
    const layers = (await inspect(s, image)).RootFS.Layers;
    const times = await Promise.all(layers.map((l) => mtimes(s, l)));

    const t = await newStore(user());
    ok(await t.nook(["load", "-i", out]));
    expect(await layerDumps(t, image)).toEqual(trees);
    const loaded = (await inspect(t, image)).RootFS.Layers;
    expect(await Promise.all(loaded.map((l) => mtimes(t, l)))).toEqual(times);
    expectLayersStack(fixtures(), stack(await layerDumps(t, image)));
    // Packing is deterministic: the loaded image saves to the same bytes.
    const again = join(t.dataHome, "again.tar");
    ok(await t.nook(["save", "-o", again, image]));
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
  });

  it("saves to stdout when it is not a terminal, and refuses a terminal in one line", async () => {
    const s = await newStore(user());
    ok(await s.nook(["load", "-i", inWork("busybox-docker.tar")]));
    const out = join(s.dataHome, "stdout.tar");
    const r = await nookToFile(s, ["save", "busybox"], out);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const skopeo = JSON.parse(execFileSync("skopeo", ["inspect", `docker-archive:${out}`]).toString()) as {
      Layers: string[];
    };
    expect(skopeo.Layers).toHaveLength(1);
    // script(1) gives nook a terminal for stdout.
    const command = [process.execPath, nookBin(), "save", "busybox"].join(" ");
    const tty = await runAs(s.user, ["script", "-qec", command, "/dev/null"], { env: s.env });
    expect(tty.code).toBe(125);
    expect(tty.stdout.replace(/\r/g, "")).toBe(
      "nook: cowardly refusing to save to a terminal; use the -o flag or redirect\nhint: nook save -o FILE busybox\n",
    );
  });

  it("refuses an unknown --format and an unknown image", async () => {
    const s = await newStore(user());
    const bad = await s.nook(["save", "--format", "tar", "-o", "/dev/null", "busybox"]);
    expect([bad.code, bad.stderr]).toEqual([
      125,
      'nook: --format takes docker-archive or oci-archive, not "tar"\n',
    ]);
    const missing = await s.nook(["save", "-o", join(s.dataHome, "x.tar"), "nothere"]);
    expect([missing.code, missing.stderr]).toEqual([1, "nook: no such image: nothere\n"]);
    expect(await dumpTree(s, s.dataHome).then((t) => t.filter((e) => !e.path.startsWith("nook")))).toEqual(
      [],
    );
  });

  it("prunes untagged images with -f, every image with -a, keeping shared layers until the last", async () => {
    const s = await newStore(user());
    ok(await s.nook(["load", "-i", inWork("busybox-docker.tar")]));
    const untagged = /ID: (sha256:\S+)/.exec(
      ok(await s.nook(["load", "-i", inWork("layers-unnamed.tar")])).stdout,
    )![1]!;
    const busybox = await inspect(s, "busybox");
    const layersInfo = await inspect(s, untagged);

    const refused = await s.nook(["image", "prune"]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toMatch(/^nook: .*use -f\n/);
    expect(
      ok(await s.nook(["images", "-q"]))
        .stdout.trim()
        .split("\n"),
    ).toHaveLength(2);

    const pruned = ok(await s.nook(["image", "prune", "-f"]));
    // busybox's layer is the untagged image's first: it stays.
    const gone = layersInfo.RootFS.Layers.slice(1);
    const lines = pruned.stdout.split("\n");
    expect(lines[0]).toBe("Deleted Images:");
    expect(lines[1]).toBe(`deleted: ${untagged}`);
    expect(lines.slice(2, 2 + gone.length).sort()).toEqual(gone.map((l) => `deleted: ${l}`).sort());
    expect(lines[2 + gone.length]).toBe("");
    expect(lines[3 + gone.length]).toMatch(/^Total reclaimed space: \d+(\.\d+)?[kM]?B$/);
    expect(ok(await s.nook(["images", "-q"])).stdout).toBe(`${busybox.Id.slice(7, 19)}\n`);

    const nothing = ok(await s.nook(["image", "prune", "-f"]));
    expect(nothing.stdout).toBe("Total reclaimed space: 0B\n");

    const all = ok(await s.nook(["image", "prune", "-a", "-f"]));
    expect(all.stdout).toMatch(
      new RegExp(
        `^Deleted Images:\\nuntagged: busybox:latest\\ndeleted: ${busybox.Id}\\ndeleted: ${busybox.RootFS.Layers[0]}\\n\\nTotal reclaimed space: \\d+(\\.\\d+)?MB\\n$`,
      ),
    );
    await expectEmptyStore(s);
  });

  it("shows Docker's system df table and JSON, counting a shared layer once", async () => {
    const s = await newStore(user());
    const empty = ok(await s.nook(["system", "df"]));
    expect(empty.stdout).toBe(
      [
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE",
        "Images          0         0         0B        0B",
        "Containers      0         0         0B        0B",
        "Local Volumes   0         0         0B        0B",
        "Build Cache     0         0         0B        0B",
        "",
      ].join("\n"),
    );
    ok(await s.nook(["load", "-i", inWork("busybox-docker.tar")]));
    ok(await s.nook(["load", "-i", inWork("layers-oci.tar")]));
    // The layers image's first layer is busybox's: five layers in all.
    const layers = (await inspect(s, "localhost/layers")).RootFS.Layers;
    const total = layers
      .map(
        (l) =>
          JSON.parse(readFileSync(join(s.dataHome, "nook", "layers", l.slice(7), "layer.json"), "utf8")) as {
            size: number;
          },
      )
      .reduce((n, r) => n + r.size, 0);
    const human = (n: number): string => {
      const units = ["B", "kB", "MB", "GB"];
      let v = n;
      let u = 0;
      for (; v >= 1000 && u < units.length - 1; u++) v /= 1000;
      return `${Number(v.toPrecision(4))}${units[u]}`;
    };
    const table = ok(await s.nook(["system", "df"]));
    expect(table.stdout.split("\n")[1]).toBe(
      `Images          2         0         ${human(total).padEnd(10)}${human(total)} (100%)`,
    );
    const json = ok(await s.nook(["system", "df", "--format", "json"]));
    const rows = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows.map((r) => r.Type)).toEqual(["Images", "Containers", "Local Volumes", "Build Cache"]);
    expect(rows[0]).toEqual({
      Active: "0",
      Reclaimable: `${human(total)} (100%)`,
      Size: human(total),
      TotalCount: "2",
      Type: "Images",
    });
  });
});

describeAs("nosub", "nook load and save, user without subordinate ranges", (user) => {
  it("loads the docker save archive with every file owned by the user, recording the image's owners", async () => {
    const s = await newStore(user());
    const r = ok(await s.nook(["load", "-i", inWork("busybox-docker.tar")]));
    expect(r.stdout).toBe("Loaded image: busybox:latest\n");
    const info = await inspect(s, "busybox");
    expect(info.Config.Cmd).toEqual(["/bin/sh"]);
    expect(info.RootFS.Layers).toEqual(
      dockerArchiveFacts(inWork("busybox-docker.tar")).config.rootfs.diff_ids,
    );
    const tree = await dumpTree(s, layerTree(s, info.RootFS.Layers[0]!));
    for (const e of tree) expect([e.uid, e.gid], e.path).toEqual([0, 0]);
    expect(tree.find((e) => e.path === "home/app")?.xattrs?.["user.containers.override_stat"]).toBe(
      "1000:1000:0755",
    );
  });

  it("saves the many-layer image with the recorded owners, so that it loads back the same", async () => {
    const s = await newStore(user());
    ok(await s.nook(["load", "-i", inWork("layers-oci.tar")]));
    const image = "localhost/layers";
    const trees = await layerDumps(s, image);
    const out = join(s.dataHome, "layers.tar");
    ok(await s.nook(["save", "--format", "oci-archive", "-o", out, image]));
    // The archive has the image's owners (from override_stat), not the user's.
    const owners = execFileSync("python3", ["-c", OWNERS, out, "data/app-file"]).toString();
    expect(owners).toBe("1000:1000 0600\n");
    const t = await newStore(user());
    ok(await t.nook(["load", "-i", out]));
    expect(await layerDumps(t, image)).toEqual(trees);
  });
});
