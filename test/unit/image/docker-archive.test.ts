import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { digestNamedBy, linkTarget, memberPath } from "../../../src/image/archive-member.js";
import { parseDockerArchiveManifest, repoTagReference } from "../../../src/image/docker-archive.js";

const SOURCE = "archive x.tar: manifest.json";
const hex = (c: string): string => c.repeat(64);

const parse = (json: string) => parseDockerArchiveManifest(Buffer.from(json), SOURCE);
const message = (r: E.Either<{ message: string }, unknown>): string | undefined =>
  E.isLeft(r) ? r.left.message : undefined;

describe("parseDockerArchiveManifest", () => {
  it("reads the manifest.json skopeo writes", () => {
    const r = parse(
      `[{"Config":"${hex("a")}.json","RepoTags":["docker.io/library/busybox:latest"],"Layers":["${hex("b")}.tar"]}]`,
    );
    expect(r).toEqual(
      E.right([
        {
          Config: `${hex("a")}.json`,
          RepoTags: ["docker.io/library/busybox:latest"],
          Layers: [`${hex("b")}.tar`],
        },
      ]),
    );
  });

  it("reads Docker's null RepoTags and Layers (Go's nil slices) as empty, and ignores Parent and LayerSources", () => {
    const r = parse(`[{"Config":"c.json","RepoTags":null,"Layers":null,"Parent":"x","LayerSources":{}}]`);
    expect(E.isRight(r) && r.right[0]).toMatchObject({ Config: "c.json", RepoTags: [], Layers: [] });
  });

  it("names the field that is wrong", () => {
    expect(message(parse(`[{"Config":"c.json","Layers":["a.tar",3]}]`))).toMatch(
      /^archive x\.tar: manifest\.json\[0\]\.Layers\[1\]: expected string, got 3/,
    );
    expect(message(parse(`[{"Layers":[]}]`))).toMatch(
      /^archive x\.tar: manifest\.json\[0\]\.Config: expected string/,
    );
    expect(message(parse(`{"Config":"c.json"}`))).toMatch(
      /^archive x\.tar: manifest\.json: expected DockerArchiveImage\[\]/,
    );
  });

  it("refuses a manifest.json that is not JSON or lists no image", () => {
    expect(message(parse("[{"))).toMatch(/^archive x\.tar: manifest\.json: not JSON/);
    expect(message(parse("[]"))).toBe("archive x.tar: manifest.json: lists no images");
  });
});

describe("repoTagReference", () => {
  it("normalises a tag as docker load does", () => {
    const r = repoTagReference("busybox:latest", SOURCE);
    expect(r).toEqual(
      E.right({ registry: "docker.io", repository: "library/busybox", tag: "latest", short: true }),
    );
    expect(E.isRight(repoTagReference("127.0.0.1:5000/app", SOURCE))).toBe(true);
  });

  it("refuses a digest and a malformed name", () => {
    expect(message(repoTagReference(`busybox@sha256:${hex("a")}`, SOURCE))).toMatch(/is not a name:tag$/);
    expect(message(repoTagReference("Busy Box", SOURCE))).toMatch(
      /^archive x\.tar: manifest\.json: RepoTags: invalid reference/,
    );
  });
});

describe("archive member names", () => {
  it("normalises member paths and refuses those outside the archive", () => {
    expect(memberPath("./a//b/")).toBe("a/b");
    expect(memberPath("manifest.json")).toBe("manifest.json");
    expect(memberPath("/etc/passwd")).toBeUndefined();
    expect(memberPath("a/../../b")).toBeUndefined();
    expect(memberPath("./")).toBeUndefined();
  });

  it("follows docker save's legacy layer.tar links, never out of the archive", () => {
    expect(linkTarget(`${hex("1")}/layer.tar`, `../${hex("2")}.tar`)).toBe(`${hex("2")}.tar`);
    expect(linkTarget("a/b", "../../etc/passwd")).toBeUndefined();
    expect(linkTarget("a/b", "/etc/passwd")).toBeUndefined();
    expect(linkTarget("a/b", "c/./d")).toBe("a/c/d");
  });

  it("reads the digest a member's name claims", () => {
    expect(digestNamedBy(`${hex("a")}.json`)).toBe(`sha256:${hex("a")}`);
    expect(digestNamedBy(`${hex("b")}.tar`)).toBe(`sha256:${hex("b")}`);
    expect(digestNamedBy(`blobs/sha256/${hex("c")}`)).toBe(`sha256:${hex("c")}`);
    expect(digestNamedBy(`${hex("d")}/layer.tar`)).toBeUndefined();
    expect(digestNamedBy("config.json")).toBeUndefined();
    expect(digestNamedBy(`${hex("A")}.json`)).toBeUndefined();
  });
});
