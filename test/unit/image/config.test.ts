import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { type ImageConfig, checkConfigAgainstManifest, parseImageConfig } from "../../../src/image/config.js";
import type { Digest } from "../../../src/image/digest.js";
import type { ImageManifest } from "../../../src/image/manifest.js";

const SOURCE = "config of docker.io/library/alpine:latest";

const sha = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;

const parse = (json: string) => parseImageConfig(Buffer.from(json), SOURCE);

const message = (r: E.Either<{ message: string }, unknown>): string | undefined =>
  E.isLeft(r) ? r.left.message : undefined;

const decoded = (json: string): ImageConfig => {
  const r = parse(json);
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

// OCI image-spec config.md, "Example".
const ociConfig = `{
    "created": "2015-10-31T22:22:56.015925234Z",
    "author": "Alyssa P. Hacker <alyspdev@example.com>",
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "User": "alice",
        "ExposedPorts": {
            "8080/tcp": {}
        },
        "Env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "FOO=oci_is_a",
            "BAR=well_written_spec"
        ],
        "Entrypoint": [
            "/bin/my-app-binary"
        ],
        "Cmd": [
            "--foreground",
            "--config",
            "/etc/my-app.d/default.cfg"
        ],
        "Volumes": {
            "/var/job-result-data": {},
            "/var/log/my-app-logs": {}
        },
        "WorkingDir": "/home/alice",
        "Labels": {
            "com.example.project.git.url": "https://example.com/project.git",
            "com.example.project.git.commit": "45a939b2999782a3f005621a8d0f29aa387e1d6b"
        },
        "StopSignal": "SIGTERM"
    },
    "rootfs": {
      "diff_ids": [
        "${sha("1")}",
        "${sha("2")}"
      ],
      "type": "layers"
    },
    "history": [
      {
        "created": "2015-10-31T22:22:54.690851953Z",
        "created_by": "/bin/sh -c #(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /"
      },
      {
        "created": "2015-10-31T22:22:55.613815829Z",
        "created_by": "/bin/sh -c #(nop) CMD [\\"sh\\"]",
        "empty_layer": true
      },
      {
        "created": "2015-10-31T22:22:56.329850019Z",
        "created_by": "/bin/sh -c apk add curl",
        "author": "alice",
        "comment": "buildkit.dockerfile.v0"
      }
    ]
}`;

// What Docker's classic builder writes (application/vnd.docker.container.image.v1+json):
// Go's encoding/json turns every nil slice and map into null.
const dockerConfig = `{
  "architecture": "arm",
  "variant": "v7",
  "config": {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": false,
    "AttachStdout": false,
    "AttachStderr": false,
    "ExposedPorts": null,
    "Tty": false,
    "OpenStdin": false,
    "StdinOnce": false,
    "Env": null,
    "Cmd": null,
    "Healthcheck": { "Test": ["CMD", "true"], "Interval": 30000000000 },
    "Image": "${sha("9")}",
    "Volumes": null,
    "WorkingDir": "",
    "Entrypoint": null,
    "OnBuild": null,
    "Labels": null,
    "StopSignal": null
  },
  "container": "3f2a1b7c9d0e",
  "container_config": { "Cmd": null, "Env": null },
  "created": "2023-08-07T19:20:20.894140623Z",
  "docker_version": "20.10.23",
  "author": null,
  "history": null,
  "os": "linux",
  "os.features": null,
  "rootfs": { "type": "layers", "diff_ids": null }
}`;

const manifestWith = (layers: number): ImageManifest => ({
  schemaVersion: 2,
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha("c"), size: 1 },
  layers: Array.from({ length: layers }, (_, i) => ({
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    digest: sha(String(i)),
    size: 1,
  })),
});

describe("parseImageConfig", () => {
  it("reads the OCI example config", () => {
    expect(decoded(ociConfig)).toMatchObject({
      architecture: "amd64",
      os: "linux",
      created: "2015-10-31T22:22:56.015925234Z",
      author: "Alyssa P. Hacker <alyspdev@example.com>",
      config: {
        User: "alice",
        ExposedPorts: { "8080/tcp": {} },
        Entrypoint: ["/bin/my-app-binary"],
        Cmd: ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
        Volumes: { "/var/job-result-data": {}, "/var/log/my-app-logs": {} },
        WorkingDir: "/home/alice",
        Labels: { "com.example.project.git.url": "https://example.com/project.git" },
        StopSignal: "SIGTERM",
      },
      rootfs: { type: "layers", diff_ids: [sha("1"), sha("2")] },
      history: [
        { created: "2015-10-31T22:22:54.690851953Z" },
        { created_by: '/bin/sh -c #(nop) CMD ["sh"]', empty_layer: true },
        { author: "alice", comment: "buildkit.dockerfile.v0" },
      ],
    });
  });

  it("reads Docker's nulls as absent fields", () => {
    const c = decoded(dockerConfig);
    expect(c.architecture).toBe("arm");
    expect(c.variant).toBe("v7");
    expect(c.author).toBeUndefined();
    expect(c.history).toBeUndefined();
    expect(c["os.features"]).toBeUndefined();
    expect(c.rootfs.diff_ids).toEqual([]);
    expect(c.config?.User).toBe("");
    for (const field of [
      "ExposedPorts",
      "Env",
      "Cmd",
      "Volumes",
      "Entrypoint",
      "Labels",
      "StopSignal",
    ] as const)
      expect(c.config?.[field], field).toBeUndefined();
  });

  it("reads a null config and a missing one alike", () => {
    const nullConfig = decoded(JSON.stringify({ ...JSON.parse(ociConfig), config: null }));
    const noConfig = decoded(JSON.stringify({ ...JSON.parse(ociConfig), config: undefined }));
    expect(nullConfig.config).toBeUndefined();
    expect(noConfig.config).toBeUndefined();
  });

  it("reads null inside history entries", () => {
    const c = decoded(
      JSON.stringify({
        ...JSON.parse(ociConfig),
        history: [{ created: null, created_by: null, author: null, comment: null, empty_layer: null }],
      }),
    );
    expect(c.history).toEqual([
      {
        created: undefined,
        created_by: undefined,
        author: undefined,
        comment: undefined,
        empty_layer: undefined,
      },
    ]);
  });

  it("reads a config with no layers, where Docker omits diff_ids", () => {
    expect(
      decoded(JSON.stringify({ ...JSON.parse(ociConfig), rootfs: { type: "layers" } })).rootfs.diff_ids,
    ).toEqual([]);
  });

  const patched = (patch: Record<string, unknown>): string =>
    JSON.stringify({ ...JSON.parse(ociConfig), ...patch });
  const withContainerConfig = (patch: Record<string, unknown>): string =>
    patched({ config: { ...JSON.parse(ociConfig).config, ...patch } });

  it.each([
    [
      "a bad diff_id",
      patched({ rootfs: { type: "layers", diff_ids: [sha("1"), "sha256:abc"] } }),
      `${SOURCE}: rootfs.diff_ids[1]: expected Digest, got "sha256:abc"`,
    ],
    [
      "a rootfs type other than layers",
      patched({ rootfs: { type: "layers+base", diff_ids: [] } }),
      `${SOURCE}: rootfs.type: expected "layers", got "layers+base"`,
    ],
    ["a missing rootfs", patched({ rootfs: undefined }), `${SOURCE}: rootfs: expected RootFs, got nothing`],
    [
      "a missing architecture",
      patched({ architecture: undefined }),
      `${SOURCE}: architecture: expected string, got nothing`,
    ],
    ["an os that is not a string", patched({ os: null }), `${SOURCE}: os: expected string, got null`],
    [
      "Env as one string",
      withContainerConfig({ Env: "PATH=/bin" }),
      `${SOURCE}: config.Env: expected string[], got "PATH=/bin"`,
    ],
    [
      "Env with a number",
      withContainerConfig({ Env: ["A=1", 2] }),
      `${SOURCE}: config.Env[1]: expected string, got 2`,
    ],
    [
      "Cmd as an object",
      withContainerConfig({ Cmd: {} }),
      `${SOURCE}: config.Cmd: expected string[], got {}`,
    ],
    [
      "a label that is not a string",
      withContainerConfig({ Labels: { version: 2 } }),
      `${SOURCE}: config.Labels.version: expected string, got 2`,
    ],
    [
      "a config that is a list",
      patched({ config: [] }),
      `${SOURCE}: config: expected ContainerConfig, got []`,
    ],
    [
      "empty_layer as a string",
      patched({ history: [{}, { empty_layer: "true" }] }),
      `${SOURCE}: history[1].empty_layer: expected boolean, got "true"`,
    ],
    ["a list instead of an object", "[]", `${SOURCE}: expected ImageConfig, got []`],
  ])("rejects %s with its path", (_, json, expected) => {
    expect(message(parse(json))).toBe(expected);
  });

  it("rejects bytes that are not JSON", () => {
    expect(message(parse("{"))).toMatch(/^config of docker\.io\/library\/alpine:latest: not JSON \(.+\)$/);
  });

  it("says the config error's tag", () => {
    expect(parse("{}")).toMatchObject({ _tag: "Left", left: { _tag: "InvalidImageConfig" } });
  });
});

describe("checkConfigAgainstManifest", () => {
  const config = decoded(ociConfig);

  it("passes a config with one diff_id per layer", () => {
    expect(checkConfigAgainstManifest(config, manifestWith(2), SOURCE)).toEqual(E.right(config));
  });

  it("rejects more layers than diff_ids", () => {
    expect(checkConfigAgainstManifest(config, manifestWith(3), SOURCE)).toEqual(
      E.left({
        _tag: "InvalidImageConfig",
        message: `${SOURCE}: rootfs.diff_ids has 2 entries but the manifest has 3 layers`,
      }),
    );
  });

  it("rejects fewer layers than diff_ids, in the singular", () => {
    expect(message(checkConfigAgainstManifest(config, manifestWith(1)))).toBe(
      "image config: rootfs.diff_ids has 2 entries but the manifest has 1 layer",
    );
  });

  it("rejects layers against a config with none", () => {
    expect(message(checkConfigAgainstManifest(decoded(dockerConfig), manifestWith(1), SOURCE))).toBe(
      `${SOURCE}: rootfs.diff_ids has 0 entries but the manifest has 1 layer`,
    );
  });
});
