// The archive `docker save` writes and `docker load` reads: a tar whose
// manifest.json lists, for each image, its config file, its tags and its
// layer tars in order (moby image/tarexport; skopeo's docker-archive
// transport writes the same). The layer files are the uncompressed layers
// (docker load also takes gzip ones); their order pairs them with the
// config's rootfs.diff_ids.
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import { listOf } from "../lib/decode.js";
import { formatDecodeFailure, parseJsonBlob } from "./manifest.js";
import { parseReference, type Reference } from "./reference.js";

export interface ArchiveError {
  readonly _tag: "InvalidArchive";
  readonly message: string;
}

export const invalidArchive = (message: string): ArchiveError => ({ _tag: "InvalidArchive", message });

export const DOCKER_ARCHIVE_MANIFEST = "manifest.json";

// moby image/tarexport/tarexport.go, manifestItem. Parent and LayerSources
// (foreign layers, whose files are absent) are not read.
export const DockerArchiveImage = t.intersection(
  [
    t.readonly(t.type({ Config: t.string, Layers: listOf(t.string, "string[]") })),
    t.readonly(t.partial({ RepoTags: listOf(t.string, "string[]") })),
  ],
  "DockerArchiveImage",
);
export type DockerArchiveImage = t.TypeOf<typeof DockerArchiveImage>;

export const DockerArchiveManifest = t.readonlyArray(DockerArchiveImage, "DockerArchiveImage[]");
export type DockerArchiveManifest = t.TypeOf<typeof DockerArchiveManifest>;

/** Decodes manifest.json; `source` starts every error message. */
export const parseDockerArchiveManifest = (
  bytes: Buffer,
  source: string,
): E.Either<ArchiveError, DockerArchiveManifest> =>
  pipe(
    parseJsonBlob(bytes, source),
    E.mapLeft(invalidArchive),
    E.chain((json) =>
      pipe(
        DockerArchiveManifest.decode(json),
        E.mapLeft((errors) => invalidArchive(formatDecodeFailure(source, errors))),
      ),
    ),
    E.chain((m) => (m.length > 0 ? E.right(m) : E.left(invalidArchive(`${source}: lists no images`)))),
  );

/**
 * A RepoTags entry as the tag nook stores: "busybox:latest" is
 * docker.io/library/busybox:latest, as docker load normalises it. A digest
 * cannot be a tag.
 */
export const repoTagReference = (tag: string, source: string): E.Either<ArchiveError, Reference> => {
  const ref = parseReference(tag);
  if (E.isLeft(ref)) return E.left(invalidArchive(`${source}: RepoTags: ${ref.left.message}`));
  if (ref.right.digest !== undefined || ref.right.tag === undefined)
    return E.left(invalidArchive(`${source}: RepoTags: ${JSON.stringify(tag)} is not a name:tag`));
  return E.right(ref.right);
};
