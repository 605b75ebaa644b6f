// The image config blob: OCI image-spec config.md, which is Docker's
// container config (application/vnd.docker.container.image.v1+json) less the
// fields only the Docker daemon reads.
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import { listOf } from "../lib/decode.js";
import { Digest } from "./digest.js";
import { type ImageManifest, formatDecodeFailure, parseJsonBlob } from "./manifest.js";

export interface ConfigError {
  readonly _tag: "InvalidImageConfig";
  readonly message: string;
}

const invalid = (message: string): ConfigError => ({ _tag: "InvalidImageConfig", message });

/**
 * `codec`, or absent for null. Docker marshals its configs with Go's
 * encoding/json, which writes a nil slice or map as null ("Env": null,
 * "Labels": null); to nook that is the same as a missing field.
 */
const nullable = <C extends t.Mixed>(codec: C): t.Type<t.TypeOf<C> | undefined, t.OutputOf<C> | undefined> =>
  new t.Type<t.TypeOf<C> | undefined, t.OutputOf<C> | undefined>(
    codec.name,
    (u): u is t.TypeOf<C> | undefined => u === undefined || codec.is(u),
    (u, c) => (u === null || u === undefined ? t.success(undefined) : codec.validate(u, c)),
    (a) => (a === undefined ? undefined : codec.encode(a)),
  );

const Strings = t.readonlyArray(t.string, "string[]");
// ExposedPorts and Volumes are sets written as maps to empty objects
// ({"80/tcp": {}}); only the keys mean anything.
const KeySet = t.readonly(t.record(t.string, t.unknown), "{ [key: string]: {} }");
const Labels = t.readonly(t.record(t.string, t.string), "Labels");

// config.md, "config": the defaults for a container. Healthcheck, OnBuild,
// Shell and the daemon's own fields are not read.
export const ContainerConfig = t.readonly(
  t.partial({
    User: nullable(t.string),
    ExposedPorts: nullable(KeySet),
    Env: nullable(Strings),
    Entrypoint: nullable(Strings),
    Cmd: nullable(Strings),
    Volumes: nullable(KeySet),
    WorkingDir: nullable(t.string),
    Labels: nullable(Labels),
    StopSignal: nullable(t.string),
  }),
  "ContainerConfig",
);
export type ContainerConfig = t.TypeOf<typeof ContainerConfig>;

// config.md, "rootfs": the digests of the uncompressed layers, in manifest
// order. Docker omits diff_ids when there are none.
export const RootFs = t.readonly(
  t.type({ type: t.literal("layers"), diff_ids: listOf(Digest, "Digest[]") }),
  "RootFs",
);
export type RootFs = t.TypeOf<typeof RootFs>;

export const History = t.readonly(
  t.partial({
    created: nullable(t.string),
    created_by: nullable(t.string),
    author: nullable(t.string),
    comment: nullable(t.string),
    empty_layer: nullable(t.boolean),
  }),
  "History",
);
export type History = t.TypeOf<typeof History>;

export const ImageConfig = t.intersection(
  [
    t.readonly(t.type({ architecture: t.string, os: t.string, rootfs: RootFs })),
    t.readonly(
      t.partial({
        variant: nullable(t.string),
        "os.version": nullable(t.string),
        "os.features": nullable(Strings),
        created: nullable(t.string),
        author: nullable(t.string),
        config: nullable(ContainerConfig),
        history: nullable(t.readonlyArray(History, "History[]")),
      }),
    ),
  ],
  "ImageConfig",
);
export type ImageConfig = t.TypeOf<typeof ImageConfig>;

const decodeConfig = (json: unknown, source: string): E.Either<ConfigError, ImageConfig> =>
  E.mapLeft((errors: t.Errors) => invalid(formatDecodeFailure(source, errors)))(ImageConfig.decode(json));

/** Decodes a config blob; `source` starts every error message ("config of docker.io/library/alpine:latest"). */
export const parseImageConfig = (bytes: Buffer, source: string): E.Either<ConfigError, ImageConfig> =>
  pipe(
    parseJsonBlob(bytes, source),
    E.mapLeft(invalid),
    E.chain((json) => decodeConfig(json, source)),
  );

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * config.md, "rootfs": diff_ids pairs with the manifest's layers one to one;
 * unpacking checks each layer against its diff_id, so a mismatch in number is
 * a broken image before anything is downloaded.
 */
export const checkConfigAgainstManifest = (
  config: ImageConfig,
  manifest: ImageManifest,
  source = "image config",
): E.Either<ConfigError, ImageConfig> => {
  const diffIds = config.rootfs.diff_ids.length;
  const layers = manifest.layers.length;
  return diffIds === layers
    ? E.right(config)
    : E.left(
        invalid(
          `${source}: rootfs.diff_ids has ${count(diffIds, "entry", "entries")} but the manifest has ${count(layers, "layer", "layers")}`,
        ),
      );
};
