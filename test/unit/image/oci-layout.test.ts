import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import type { Digest } from "../../../src/image/digest.js";
import type { Descriptor } from "../../../src/image/manifest.js";
import {
  layoutBlobPath,
  loadedName,
  parseLayoutIndex,
  parseOciLayout,
} from "../../../src/image/oci-layout.js";
import { formatReference } from "../../../src/image/reference.js";

const SOURCE = "archive x.tar";
const sha = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;
const message = (r: E.Either<{ message: string }, unknown>): string | undefined =>
  E.isLeft(r) ? r.left.message : undefined;

const descriptor = (annotations?: Record<string, string>): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: sha("a"),
  size: 349,
  ...(annotations ? { annotations } : {}),
});

/** The name an entry loads under, as a full reference, or undefined. */
const named = (annotations?: Record<string, string>): string | undefined => {
  const r = loadedName(descriptor(annotations), SOURCE);
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right === undefined ? undefined : formatReference(r.right);
};

describe("parseOciLayout", () => {
  it("reads version 1.0.0 and refuses others", () => {
    expect(parseOciLayout(Buffer.from('{"imageLayoutVersion":"1.0.0"}'), SOURCE)).toEqual(
      E.right({ imageLayoutVersion: "1.0.0" }),
    );
    expect(message(parseOciLayout(Buffer.from('{"imageLayoutVersion":"2.0.0"}'), SOURCE))).toBe(
      'archive x.tar: imageLayoutVersion "2.0.0" is not 1.x',
    );
    expect(message(parseOciLayout(Buffer.from("{}"), SOURCE))).toMatch(
      /^archive x\.tar: imageLayoutVersion: expected string/,
    );
  });
});

describe("parseLayoutIndex", () => {
  it("reads the index.json skopeo writes (no mediaType)", () => {
    const json = `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${sha("c")}","size":349,"annotations":{"org.opencontainers.image.ref.name":"busybox"}}]}`;
    const r = parseLayoutIndex(Buffer.from(json), SOURCE);
    expect(E.isRight(r) && r.right.manifests[0]?.digest).toBe(sha("c"));
  });

  it("refuses an index.json that says it is something else, or names a bad digest", () => {
    expect(
      message(
        parseLayoutIndex(
          Buffer.from(
            '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}',
          ),
          SOURCE,
        ),
      ),
    ).toMatch(/is not an image index$/);
    expect(
      message(
        parseLayoutIndex(
          Buffer.from('{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:12","size":1}]}'),
          SOURCE,
        ),
      ),
    ).toMatch(/^archive x\.tar: manifests\[0\]\.digest: expected Digest/);
  });
});

describe("loadedName (podman load's reading of ref.name)", () => {
  it("puts localhost/ before a name without a registry", () => {
    expect(named({ "org.opencontainers.image.ref.name": "busybox" })).toBe("localhost/busybox:latest");
    expect(named({ "org.opencontainers.image.ref.name": "busybox:1.0" })).toBe("localhost/busybox:1.0");
    expect(named({ "org.opencontainers.image.ref.name": "library/busybox" })).toBe(
      "localhost/library/busybox:latest",
    );
    expect(named({ "org.opencontainers.image.ref.name": "1.0" })).toBe("localhost/1.0:latest");
  });

  it("keeps a name with a registry as it is", () => {
    expect(named({ "org.opencontainers.image.ref.name": "quay.io/foo/bar:2" })).toBe("quay.io/foo/bar:2");
    expect(named({ "org.opencontainers.image.ref.name": "docker.io/library/busybox:latest" })).toBe(
      "docker.io/library/busybox:latest",
    );
    expect(named({ "org.opencontainers.image.ref.name": "localhost:5000/a/b" })).toBe(
      "localhost:5000/a/b:latest",
    );
  });

  it("prefers containerd's full name, normalised as docker load does", () => {
    expect(
      named({ "io.containerd.image.name": "busybox:1.36", "org.opencontainers.image.ref.name": "1.36" }),
    ).toBe("docker.io/library/busybox:1.36");
  });

  it("loads an entry without a name untagged", () => {
    expect(named()).toBeUndefined();
    expect(named({ "org.opencontainers.image.ref.name": "" })).toBeUndefined();
  });

  it("refuses a ref.name that is no image name or names a digest, as podman does", () => {
    const refuse = (name: string) =>
      message(loadedName(descriptor({ "org.opencontainers.image.ref.name": name }), SOURCE));
    expect(refuse("UPPER")).toBe(
      'archive x.tar: org.opencontainers.image.ref.name "UPPER" is not an image name',
    );
    expect(refuse(`busybox@${sha("b")}`)).toMatch(/names a digest, not a tag$/);
  });
});

describe("layoutBlobPath", () => {
  it("is blobs/<alg>/<hex>", () => {
    expect(layoutBlobPath(sha("e"))).toBe(`blobs/sha256/${"e".repeat(64)}`);
  });
});
