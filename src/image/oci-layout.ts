// The OCI image layout (image-spec image-layout.md): an oci-layout file
// naming the layout version, index.json (an image index whose entries are
// the layout's images), and every blob under blobs/<alg>/<hex>. `podman save
// --format oci-archive` and `skopeo copy ... oci-archive:` write it as a tar.
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import { type Digest, digestAlgorithm, digestHex } from "./digest.js";
import { type ArchiveError, invalidArchive } from "./docker-archive.js";
import {
  type Descriptor,
  type ImageIndex,
  ImageIndex as ImageIndexCodec,
  formatDecodeFailure,
  parseJsonBlob,
} from "./manifest.js";
import { isIndexMediaType } from "./media-types.js";
import { isShortName, parseReference, type Reference } from "./reference.js";

export const OCI_LAYOUT_FILE = "oci-layout";
export const OCI_INDEX_FILE = "index.json";

/** annotations.md: the image's name in the layout, a tag or a full reference. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** The full name containerd (and docker save since Docker 25) puts beside ref.name, which then holds the tag only. */
export const CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name";

export const OciLayout = t.readonly(t.type({ imageLayoutVersion: t.string }), "OciLayout");
export type OciLayout = t.TypeOf<typeof OciLayout>;

const decodeWith = <A>(
  codec: t.Type<A, unknown, unknown>,
  bytes: Buffer,
  source: string,
): E.Either<ArchiveError, A> =>
  pipe(
    parseJsonBlob(bytes, source),
    E.mapLeft(invalidArchive),
    E.chain((json) =>
      pipe(
        codec.decode(json),
        E.mapLeft((errors) => invalidArchive(formatDecodeFailure(source, errors))),
      ),
    ),
  );

/** image-layout.md, "oci-layout file": version 1.x is the one there is. */
export const parseOciLayout = (bytes: Buffer, source: string): E.Either<ArchiveError, OciLayout> =>
  pipe(
    decodeWith(OciLayout as t.Type<OciLayout, unknown, unknown>, bytes, source),
    E.chain((l) =>
      /^1\.\d+\.\d+$/.test(l.imageLayoutVersion)
        ? E.right(l)
        : E.left(
            invalidArchive(
              `${source}: imageLayoutVersion ${JSON.stringify(l.imageLayoutVersion)} is not 1.x`,
            ),
          ),
    ),
  );

/** index.json: an image index (its mediaType is optional, but when given it must say so). */
export const parseLayoutIndex = (bytes: Buffer, source: string): E.Either<ArchiveError, ImageIndex> =>
  pipe(
    decodeWith(ImageIndexCodec as t.Type<ImageIndex, unknown, unknown>, bytes, source),
    E.chain((index) =>
      index.mediaType === undefined || isIndexMediaType(index.mediaType)
        ? E.right(index)
        : E.left(
            invalidArchive(`${source}: mediaType ${JSON.stringify(index.mediaType)} is not an image index`),
          ),
    ),
  );

/** Where a blob lives in a layout: "blobs/sha256/<hex>". */
export const layoutBlobPath = (d: Digest): string => `blobs/${digestAlgorithm(d)}/${digestHex(d)}`;

/**
 * The tag a layout's entry is loaded under, or undefined for none.
 * io.containerd.image.name, when present, is a full reference (normalised as
 * docker load does). Otherwise ref.name is read as `podman load` (4.x) reads
 * it: a name with a registry stays as it is ("quay.io/a/b:2"), and one
 * without gets "localhost/" in front, as Podman names images it cannot place
 * on a registry ("busybox" is localhost/busybox:latest, "busybox:1.0" is
 * localhost/busybox:1.0, a bare "1.0" is localhost/1.0:latest). A ref.name
 * that is no image name, or names a digest, fails the load, as with Podman.
 */
export const loadedName = (d: Descriptor, source: string): E.Either<ArchiveError, Reference | undefined> => {
  const full = d.annotations?.[CONTAINERD_NAME_ANNOTATION];
  if (full !== undefined) {
    const ref = parseReference(full);
    if (E.isRight(ref) && ref.right.tag !== undefined && ref.right.digest === undefined) return ref;
  }
  const name = d.annotations?.[REF_NAME_ANNOTATION];
  if (name === undefined || name === "") return E.right(undefined);
  const bad = (why: string): E.Either<ArchiveError, never> =>
    E.left(invalidArchive(`${source}: ${REF_NAME_ANNOTATION} ${JSON.stringify(name)} ${why}`));
  const parsed = parseReference(name);
  if (E.isLeft(parsed)) return bad("is not an image name");
  const ref = isShortName(parsed.right) ? parseReference(`localhost/${name}`) : parsed;
  if (E.isLeft(ref)) return bad("is not an image name");
  if (ref.right.digest !== undefined || ref.right.tag === undefined) return bad("names a digest, not a tag");
  return E.right(ref.right);
};
