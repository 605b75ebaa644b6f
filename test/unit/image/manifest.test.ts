import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { type ManifestDocument, parseManifestDocument } from "../../../src/image/manifest.js";
import {
  ACCEPT_MANIFESTS,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
} from "../../../src/image/media-types.js";

const SOURCE = "manifest docker.io/library/alpine:latest";
const SCHEMA1 =
  "manifest docker.io/library/alpine:latest: Docker schema 1 manifests are not supported (deprecated since 2017); push the image again with a current client";

/** A well-formed sha256 digest made of one repeated hex digit. */
const sha = (c: string): string => `sha256:${c.repeat(64)}`;

const parse = (json: string, contentType?: string) =>
  parseManifestDocument(Buffer.from(json), contentType, SOURCE);

const message = (r: E.Either<{ message: string }, unknown>): string | undefined =>
  E.isLeft(r) ? r.left.message : undefined;

// Docker manifest v2 schema 2, as `docker push` writes it (manifest-v2-2.md, "Example Image Manifest").
const dockerManifest = `{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 7023,
      "digest": "${sha("b")}"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 32654,
         "digest": "${sha("1")}"
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 16724,
         "digest": "${sha("2")}"
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 73109,
         "digest": "${sha("3")}"
      }
   ]
}`;

// OCI image manifest (manifest.md, "Example Image Manifest"), with a zstd layer and a subject.
const ociManifest = `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "${sha("c")}",
    "size": 7023
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "${sha("4")}",
      "size": 32654
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
      "digest": "${sha("5")}",
      "size": 16724
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar",
      "digest": "${sha("6")}",
      "size": 73109,
      "urls": ["https://mirror.example.com/layer"]
    }
  ],
  "subject": {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "${sha("7")}",
    "size": 7682
  },
  "annotations": {
    "com.example.key1": "value1",
    "org.opencontainers.image.created": "2024-01-02T03:04:05Z"
  }
}`;

// Docker manifest list (manifest-v2-2.md, "Manifest List"), as buildx pushes
// it: five platforms and a provenance attestation.
const dockerList = `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 528,
      "digest": "${sha("a")}",
      "platform": { "architecture": "amd64", "os": "linux" }
    },
    {
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 528,
      "digest": "${sha("b")}",
      "platform": { "architecture": "arm", "os": "linux", "variant": "v6" }
    },
    {
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 528,
      "digest": "${sha("c")}",
      "platform": { "architecture": "arm", "os": "linux", "variant": "v7" }
    },
    {
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 528,
      "digest": "${sha("d")}",
      "platform": { "architecture": "arm64", "os": "linux", "variant": "v8" }
    },
    {
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 528,
      "digest": "${sha("e")}",
      "platform": { "architecture": "386", "os": "linux", "features": ["sse4"] }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "size": 840,
      "digest": "${sha("f")}",
      "platform": { "architecture": "unknown", "os": "unknown" },
      "annotations": {
        "vnd.docker.reference.digest": "${sha("a")}",
        "vnd.docker.reference.type": "attestation-manifest"
      }
    }
  ]
}`;

// OCI image index without a mediaType field (optional in image-index.md).
const ociIndexBare = `{
  "schemaVersion": 2,
  "manifests": [
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "size": 7143,
      "digest": "${sha("e")}",
      "platform": { "architecture": "ppc64le", "os": "linux" }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "size": 7682,
      "digest": "${sha("5")}",
      "platform": { "architecture": "amd64", "os": "linux" }
    }
  ],
  "annotations": { "com.example.key1": "value1" }
}`;

const ociManifestBare = JSON.stringify({ ...JSON.parse(ociManifest), mediaType: undefined });

/** The manifest with one field of one layer replaced. */
const withLayer = (i: number, patch: Record<string, unknown>): string => {
  const doc = JSON.parse(dockerManifest) as { layers: Record<string, unknown>[] };
  doc.layers[i] = { ...doc.layers[i], ...patch };
  return JSON.stringify(doc);
};

const kindAndType = (r: E.Either<unknown, ManifestDocument>) =>
  E.isRight(r) ? { kind: r.right.kind, mediaType: r.right.mediaType } : r.left;

describe("ACCEPT_MANIFESTS", () => {
  it("lists every manifest and index type nook reads, and not schema 1", () => {
    expect(ACCEPT_MANIFESTS.split(", ").sort()).toEqual(
      [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].sort(),
    );
  });
});

describe("parseManifestDocument: what a registry serves", () => {
  it("reads a Docker schema 2 manifest", () => {
    const r = parse(dockerManifest, DOCKER_MANIFEST);
    expect(E.isRight(r) && r.right).toMatchObject({
      kind: "manifest",
      mediaType: DOCKER_MANIFEST,
      manifest: {
        schemaVersion: 2,
        config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 7023, digest: sha("b") },
        layers: [{ digest: sha("1") }, { digest: sha("2") }, { digest: sha("3"), size: 73109 }],
      },
    });
  });

  it("reads an OCI manifest with zstd and plain tar layers, urls, annotations and a subject", () => {
    const r = parse(ociManifest, OCI_MANIFEST);
    expect(E.isRight(r) && r.right).toMatchObject({
      kind: "manifest",
      mediaType: OCI_MANIFEST,
      manifest: {
        layers: [
          {},
          { mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" },
          { urls: ["https://mirror.example.com/layer"] },
        ],
        subject: { digest: sha("7"), size: 7682 },
        annotations: { "com.example.key1": "value1" },
      },
    });
  });

  it("reads a Docker manifest list with an attestation entry", () => {
    const r = parse(dockerList, DOCKER_MANIFEST_LIST);
    expect(
      E.isRight(r) && r.right.kind === "index" && r.right.index.manifests.map((m) => m.platform),
    ).toEqual([
      { architecture: "amd64", os: "linux" },
      { architecture: "arm", os: "linux", variant: "v6" },
      { architecture: "arm", os: "linux", variant: "v7" },
      { architecture: "arm64", os: "linux", variant: "v8" },
      { architecture: "386", os: "linux", features: ["sse4"] },
      { architecture: "unknown", os: "unknown" },
    ]);
    expect(kindAndType(r)).toEqual({ kind: "index", mediaType: DOCKER_MANIFEST_LIST });
  });

  it("reads an index entry without a platform", () => {
    const doc = JSON.parse(ociIndexBare) as { manifests: Record<string, unknown>[] };
    delete doc.manifests[0]!.platform;
    expect(kindAndType(parse(JSON.stringify(doc), OCI_INDEX))).toEqual({
      kind: "index",
      mediaType: OCI_INDEX,
    });
  });

  it("reads Windows platform fields", () => {
    const doc = JSON.parse(ociIndexBare) as { manifests: Record<string, unknown>[] };
    doc.manifests[0]!.platform = {
      architecture: "amd64",
      os: "windows",
      "os.version": "10.0.17763.5329",
      "os.features": ["win32k"],
    };
    const r = parse(JSON.stringify(doc), OCI_INDEX);
    expect(E.isRight(r) && r.right.kind === "index" && r.right.index.manifests[0]!.platform).toEqual({
      architecture: "amd64",
      os: "windows",
      "os.version": "10.0.17763.5329",
      "os.features": ["win32k"],
    });
  });

  it("accepts a manifest with no layers", () => {
    const doc = { ...JSON.parse(dockerManifest), layers: [] };
    expect(kindAndType(parse(JSON.stringify(doc), DOCKER_MANIFEST))).toEqual({
      kind: "manifest",
      mediaType: DOCKER_MANIFEST,
    });
  });
});

describe("parseManifestDocument: which kind", () => {
  it("trusts the document's mediaType over a disagreeing Content-Type", () => {
    expect(kindAndType(parse(dockerManifest, OCI_MANIFEST))).toEqual({
      kind: "manifest",
      mediaType: DOCKER_MANIFEST,
    });
    expect(kindAndType(parse(dockerManifest, OCI_INDEX))).toEqual({
      kind: "manifest",
      mediaType: DOCKER_MANIFEST,
    });
    expect(kindAndType(parse(dockerList, "application/json"))).toEqual({
      kind: "index",
      mediaType: DOCKER_MANIFEST_LIST,
    });
  });

  it("takes the Content-Type when the document has no mediaType, ignoring parameters and case", () => {
    expect(
      kindAndType(parse(ociIndexBare, "application/vnd.oci.image.index.v1+json; charset=utf-8")),
    ).toEqual({
      kind: "index",
      mediaType: OCI_INDEX,
    });
    expect(kindAndType(parse(ociManifestBare, "Application/VND.oci.image.manifest.v1+json"))).toEqual({
      kind: "manifest",
      mediaType: OCI_MANIFEST,
    });
  });

  it("goes by shape without a mediaType or a useful Content-Type, and calls it OCI", () => {
    expect(kindAndType(parse(ociIndexBare, undefined))).toEqual({ kind: "index", mediaType: OCI_INDEX });
    expect(kindAndType(parse(ociIndexBare, "application/octet-stream"))).toEqual({
      kind: "index",
      mediaType: OCI_INDEX,
    });
    expect(kindAndType(parse(ociManifestBare, "text/plain"))).toEqual({
      kind: "manifest",
      mediaType: OCI_MANIFEST,
    });
  });

  it("believes the shape over a Content-Type of the other kind", () => {
    expect(kindAndType(parse(ociManifestBare, OCI_INDEX))).toEqual({
      kind: "manifest",
      mediaType: OCI_MANIFEST,
    });
  });

  it("rejects a document whose mediaType says index but which is shaped like a manifest", () => {
    const doc = { ...JSON.parse(dockerManifest), mediaType: OCI_INDEX };
    expect(message(parse(JSON.stringify(doc), OCI_INDEX))).toBe(
      `${SOURCE}: mediaType "application/vnd.oci.image.index.v1+json" is an index type, but the document is shaped like a manifest`,
    );
  });

  it("rejects a document whose mediaType says manifest but which is shaped like an index", () => {
    const doc = { ...JSON.parse(dockerList), mediaType: DOCKER_MANIFEST };
    expect(message(parse(JSON.stringify(doc), DOCKER_MANIFEST))).toBe(
      `${SOURCE}: mediaType "application/vnd.docker.distribution.manifest.v2+json" is a manifest type, but the document is shaped like an index`,
    );
  });

  it("rejects a mediaType that is neither a manifest nor an index", () => {
    const doc = { ...JSON.parse(ociManifest), mediaType: "application/vnd.oci.artifact.manifest.v1+json" };
    expect(message(parse(JSON.stringify(doc), undefined))).toBe(
      `${SOURCE}: mediaType: unsupported manifest media type "application/vnd.oci.artifact.manifest.v1+json"`,
    );
  });

  it("rejects a document that says nothing about what it is", () => {
    expect(message(parse('{"schemaVersion": 2}', "application/json"))).toBe(
      `${SOURCE}: neither an image manifest nor an index (no mediaType, manifests, layers or config)`,
    );
  });

  it("decodes by the Content-Type when the shape is empty", () => {
    expect(message(parse('{"schemaVersion": 2}', OCI_MANIFEST))).toBe(
      `${SOURCE}: config: expected Descriptor, got nothing (and 1 more)`,
    );
  });
});

describe("parseManifestDocument: Docker schema 1", () => {
  const signed = `{
   "schemaVersion": 1,
   "name": "library/hello-world",
   "tag": "latest",
   "architecture": "amd64",
   "fsLayers": [{ "blobSum": "${sha("a")}" }],
   "history": [{ "v1Compatibility": "{}" }],
   "signatures": [{ "header": { "alg": "ES256" }, "signature": "x", "protected": "y" }]
}`;

  it("is refused by schemaVersion", () => {
    expect(message(parse(signed, undefined))).toBe(SCHEMA1);
    expect(message(parse(signed, OCI_MANIFEST))).toBe(SCHEMA1);
  });

  it("is refused by Content-Type", () => {
    const noVersion = JSON.stringify({ ...JSON.parse(signed), schemaVersion: undefined });
    expect(message(parse(noVersion, "application/vnd.docker.distribution.manifest.v1+prettyjws"))).toBe(
      SCHEMA1,
    );
    expect(message(parse(noVersion, "application/vnd.docker.distribution.manifest.v1+json"))).toBe(SCHEMA1);
  });

  it("is refused by a declared mediaType", () => {
    const declared = {
      ...JSON.parse(dockerManifest),
      mediaType: "application/vnd.docker.distribution.manifest.v1+json",
    };
    expect(message(parse(JSON.stringify(declared), undefined))).toBe(SCHEMA1);
  });

  it("is not assumed from the Content-Type of a schema 2 document", () => {
    expect(
      kindAndType(parse(ociManifestBare, "application/vnd.docker.distribution.manifest.v1+prettyjws")),
    ).toEqual({ kind: "manifest", mediaType: OCI_MANIFEST });
  });
});

describe("parseManifestDocument: malformed documents", () => {
  it.each([
    [
      "a bad digest",
      withLayer(2, { digest: "sha256:xyz" }),
      `${SOURCE}: layers[2].digest: expected Digest, got "sha256:xyz"`,
    ],
    [
      "an uppercase digest",
      withLayer(0, { digest: sha("A") }),
      `${SOURCE}: layers[0].digest: expected Digest, got "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAA...`,
    ],
    [
      "a negative size",
      withLayer(1, { size: -1 }),
      `${SOURCE}: layers[1].size: expected NonNegativeInteger, got -1`,
    ],
    [
      "a fractional size",
      withLayer(1, { size: 1.5 }),
      `${SOURCE}: layers[1].size: expected NonNegativeInteger, got 1.5`,
    ],
    [
      "a size as a string",
      withLayer(1, { size: "12" }),
      `${SOURCE}: layers[1].size: expected NonNegativeInteger, got "12"`,
    ],
    [
      "a missing mediaType",
      withLayer(0, { mediaType: undefined }),
      `${SOURCE}: layers[0].mediaType: expected string, got nothing`,
    ],
    [
      "urls that are not strings",
      withLayer(0, { urls: [7] }),
      `${SOURCE}: layers[0].urls[0]: expected string, got 7`,
    ],
    [
      "a layer that is not an object",
      JSON.stringify({ ...JSON.parse(dockerManifest), layers: [null] }),
      `${SOURCE}: layers[0]: expected Descriptor, got null`,
    ],
  ])("reports %s with its path", (_, json, expected) => {
    expect(message(parse(json, DOCKER_MANIFEST))).toBe(expected);
  });

  it("reports a schemaVersion other than 2", () => {
    const doc = { ...JSON.parse(dockerManifest), schemaVersion: 3 };
    expect(message(parse(JSON.stringify(doc), undefined))).toBe(
      `${SOURCE}: schemaVersion: expected 2, got 3`,
    );
  });

  it("reports a missing config", () => {
    const doc = { ...JSON.parse(ociManifest), config: undefined };
    expect(message(parse(JSON.stringify(doc), undefined))).toBe(
      `${SOURCE}: config: expected Descriptor, got nothing`,
    );
  });

  it("reports layers that are not a list", () => {
    const doc = { ...JSON.parse(ociManifest), layers: {} };
    expect(message(parse(JSON.stringify(doc), undefined))).toBe(
      `${SOURCE}: layers: expected Descriptor[], got {}`,
    );
  });

  it("reports an annotation that is not a string", () => {
    const doc = { ...JSON.parse(ociManifest), annotations: { "com.example.n": 1 } };
    expect(message(parse(JSON.stringify(doc), undefined))).toBe(
      `${SOURCE}: annotations.com.example.n: expected string, got 1`,
    );
  });

  it("reports a bad platform in an index entry", () => {
    const doc = JSON.parse(ociIndexBare) as { manifests: Record<string, unknown>[] };
    doc.manifests[1]!.platform = { os: "linux" };
    expect(message(parse(JSON.stringify(doc), OCI_INDEX))).toBe(
      `${SOURCE}: manifests[1].platform.architecture: expected string, got nothing`,
    );
  });

  it("reports a bad digest in an index entry", () => {
    const doc = JSON.parse(dockerList) as { manifests: Record<string, unknown>[] };
    doc.manifests[3]!.digest = "sha256:abc";
    expect(message(parse(JSON.stringify(doc), undefined))).toBe(
      `${SOURCE}: manifests[3].digest: expected Digest, got "sha256:abc"`,
    );
  });

  it("reports bytes that are not JSON", () => {
    expect(message(parse("<html>rate limited</html>", "text/html"))).toMatch(
      /^manifest docker\.io\/library\/alpine:latest: not JSON \(.+\)$/,
    );
  });

  it.each(["[]", "null", '"manifest"', "2"])("reports JSON that is not an object: %s", (json) => {
    expect(message(parse(json, OCI_MANIFEST))).toBe(`${SOURCE}: expected a JSON object`);
  });
});

describe("parseManifestDocument: images only", () => {
  it.each([
    [
      "an encrypted layer",
      "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
      `${SOURCE}: layers[1].mediaType: unsupported layer media type "application/vnd.oci.image.layer.v1.tar+gzip+encrypted" (encrypted layers are not supported)`,
    ],
    [
      "a Docker foreign layer",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      `${SOURCE}: layers[1].mediaType: unsupported layer media type "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" (foreign layers live outside the registry, and nook does not fetch them)`,
    ],
    [
      "an OCI non-distributable layer",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      `${SOURCE}: layers[1].mediaType: unsupported layer media type "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" (foreign layers live outside the registry, and nook does not fetch them)`,
    ],
    [
      "an unknown layer",
      "application/vnd.in-toto+json",
      `${SOURCE}: layers[1].mediaType: unsupported layer media type "application/vnd.in-toto+json" (nook unpacks tar, tar+gzip and tar+zstd layers)`,
    ],
  ])("rejects %s, naming the type and the index", (_, mediaType, expected) => {
    expect(message(parse(withLayer(1, { mediaType }), DOCKER_MANIFEST))).toBe(expected);
  });

  it("rejects an artifact by its config (a Helm chart)", () => {
    const helm = `{
  "schemaVersion": 2,
  "config": {
    "mediaType": "application/vnd.cncf.helm.config.v1+json",
    "digest": "${sha("8")}",
    "size": 117
  },
  "layers": [
    {
      "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
      "digest": "${sha("9")}",
      "size": 2487
    }
  ]
}`;
    expect(message(parse(helm, OCI_MANIFEST))).toBe(
      `${SOURCE}: config.mediaType: "application/vnd.cncf.helm.config.v1+json" is not an image config; this is an artifact, not a container image`,
    );
  });

  it("rejects an OCI 1.1 artifact with an empty config, naming its artifactType", () => {
    const sbom = `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/spdx+json",
  "config": {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "size": 2,
    "data": "e30="
  },
  "layers": [{ "mediaType": "application/spdx+json", "digest": "${sha("9")}", "size": 4096 }],
  "subject": { "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "${sha("7")}", "size": 1024 }
}`;
    expect(message(parse(sbom, OCI_MANIFEST))).toBe(
      `${SOURCE}: config.mediaType: "application/vnd.oci.empty.v1+json" is not an image config; this is an artifact of type application/spdx+json, not a container image`,
    );
  });
});
