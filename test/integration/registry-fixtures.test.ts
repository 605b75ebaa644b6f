// The test registry and its fixture images, checked through the distribution
// API the way any client sees them: later tests (pull, run) stand on these
// being what scripts/fixtures/build.sh says they are.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { SEEDED } from "../support/registry.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST].join(", ");

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
}
interface Manifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}
interface Index {
  mediaType: string;
  manifests: Descriptor[];
}

const base = (): string => `http://${inject("registry")}/v2`;

const getManifest = async <T>(
  name: string,
  ref = "latest",
): Promise<{ type: string; body: T; digest: string }> => {
  const r = await fetch(`${base()}/${name}/manifests/${ref}`, { headers: { Accept: ACCEPT } });
  expect(r.status).toBe(200);
  const bytes = Buffer.from(await r.arrayBuffer());
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  expect(r.headers.get("docker-content-digest")).toBe(digest);
  return { type: r.headers.get("content-type") ?? "", body: JSON.parse(bytes.toString("utf8")) as T, digest };
};

const getBlob = async (name: string, d: Descriptor): Promise<Buffer> => {
  const r = await fetch(`${base()}/${name}/blobs/${d.digest}`);
  expect(r.status).toBe(200);
  const bytes = Buffer.from(await r.arrayBuffer());
  expect(bytes.length).toBe(d.size);
  expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(d.digest);
  return bytes;
};

/** GNU tar's verbose listing of a gzipped layer: "mode owner/group ... name" lines, numeric owners. */
const listLayer = (gz: Buffer): string[] =>
  execFileSync("tar", ["-tvz", "--numeric-owner", "-f", "-"], { input: gz, encoding: "utf8" })
    .trim()
    .split("\n")
    .filter((l) => l !== "");

describe("the test registry", () => {
  it("holds every fixture repository", async () => {
    const r = await fetch(`${base()}/_catalog`);
    const { repositories } = (await r.json()) as { repositories: string[] };
    expect([...repositories].sort()).toEqual(Object.keys(SEEDED).sort());
  });

  it("serves busybox as an OCI manifest and busybox-docker as Docker v2 schema 2, both with matching blobs", async () => {
    const oci = await getManifest<Manifest>("busybox");
    expect(oci.type).toBe(OCI_MANIFEST);
    const docker = await getManifest<Manifest>("busybox-docker");
    expect(docker.type).toBe(DOCKER_MANIFEST);
    expect(docker.body.layers[0]?.mediaType).toBe("application/vnd.docker.image.rootfs.diff.tar.gzip");
    for (const [name, m] of [
      ["busybox", oci.body],
      ["busybox-docker", docker.body],
    ] as const) {
      const config = JSON.parse((await getBlob(name, m.config)).toString("utf8")) as {
        config: { Cmd: string[] };
      };
      expect(config.config.Cmd).toEqual(["/bin/sh"]);
      const entries = listLayer(await getBlob(name, m.layers[0]!));
      expect(entries.some((l) => / bin\/busybox$/.test(l))).toBe(true);
      expect(entries.some((l) => / bin\/sh -> busybox$/.test(l))).toBe(true);
    }
  });

  it("serves multiarch as an index of linux/amd64 and linux/arm64/v8", async () => {
    const { type, body } = await getManifest<Index>("multiarch");
    expect(type).toBe(OCI_INDEX);
    expect(body.manifests.map((m) => m.platform)).toEqual([
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ]);
    for (const d of body.manifests) {
      const m = await getManifest<Manifest>("multiarch", d.digest);
      const config = JSON.parse((await getBlob("multiarch", m.body.config)).toString("utf8")) as {
        architecture: string;
      };
      expect(config.architecture).toBe(d.platform?.architecture);
    }
  });

  it("serves a layers image with owners, modes, links, whiteouts, an opaque directory and an empty layer", async () => {
    const { body } = await getManifest<Manifest>("layers");
    expect(body.layers).toHaveLength(5);
    const [, l1, l2, l3, l4] = await Promise.all(
      body.layers.map((d) => getBlob("layers", d).then(listLayer)),
    );
    const line = (entries: string[] | undefined, name: string): string =>
      entries?.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} `)) ?? `(no ${name})`;
    expect(line(l1, "data/app-file")).toMatch(/^-rw------- 1000\/1000 /);
    expect(line(l1, "data/daemon-file")).toMatch(/^-rw-r----- 1\/1 /);
    expect(line(l1, "data/nobody-file")).toMatch(/^-rw-r--r-- 65534\/65534 /);
    expect(line(l1, "data/setuid")).toMatch(/^-rwsr-xr-x 0\/0 /);
    expect(line(l1, "data/setgid")).toMatch(/^-rwxr-sr-x 0\/1 /);
    expect(line(l1, "data/sticky/")).toMatch(/^drwxrwxrwt /);
    expect(line(l1, "data/hardlink")).toMatch(/^hrw-r--r-- .* data\/hardlink link to data\/root-file$/);
    expect(line(l1, "data/absolute-link")).toMatch(/-> \/data\/root-file$/);
    expect(l2).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ data\/\.wh\.removed-file$/),
        expect.stringMatching(/ data\/\.wh\.removed-dir$/),
        expect.stringMatching(/ data\/opaque\/\.wh\.\.wh\.\.opq$/),
      ]),
    );
    expect(l3).toEqual([]);
    expect(line(l4, "data/removed-file")).toMatch(/^-rw-r--r-- 65534\/65534 /);
  });

  it("records an empty_layer history entry in the layers image's config", async () => {
    const { body } = await getManifest<Manifest>("layers");
    const config = JSON.parse((await getBlob("layers", body.config)).toString("utf8")) as {
      history: { empty_layer?: boolean }[];
      rootfs: { diff_ids: string[] };
    };
    const withLayer = config.history.filter((h) => !h.empty_layer);
    expect(withLayer).toHaveLength(config.rootfs.diff_ids.length);
    expect(config.history.length).toBeGreaterThan(withLayer.length);
  });

  it("serves a big image of at least 100 MB for the benchmarks", async () => {
    const { body } = await getManifest<Manifest>("big");
    const total = body.layers.reduce((n, d) => n + d.size, 0);
    expect(total).toBeGreaterThanOrEqual(100_000_000);
  });
});

describe("the fixture files", () => {
  it("include a docker save archive of busybox", () => {
    const tar = join(inject("fixtures"), "busybox-docker.tar");
    const manifest = JSON.parse(
      execFileSync("tar", ["-xOf", tar, "manifest.json"], { encoding: "utf8" }),
    ) as { RepoTags: string[]; Layers: string[] }[];
    // skopeo writes the normalised name where docker save writes "busybox:latest"; a loader takes both.
    expect(manifest[0]?.RepoTags).toEqual(["docker.io/library/busybox:latest"]);
    expect(manifest[0]?.Layers).toHaveLength(1);
  });

  it("include the expected tree of the layers image", () => {
    const expected = JSON.parse(readFileSync(join(inject("fixtures"), "layers-expected.json"), "utf8")) as {
      absent: string[];
      present: Record<string, unknown[]>;
    };
    expect(expected.absent).toContain("data/opaque/old");
    expect(expected.present["data/replaced"]).toEqual(["file", 1, 1, 0o640, "version 2\n"]);
  });
});
