// Image manifests and indexes as registries serve them: OCI image-spec
// (descriptor.md, manifest.md, image-index.md) and Docker manifest v2 schema 2
// (manifest-v2-2.md), whose shapes OCI 1.0 copied. One codec reads both
// families; the media types say which family a document is.
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import { formatValidationErrors } from "../lib/decode.js";
import { Digest } from "./digest.js";
import {
  DOCKER_LAYER_FOREIGN_TAR_GZIP,
  OCI_INDEX,
  OCI_LAYER_NONDISTRIBUTABLE_TAR,
  OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
  OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
  OCI_MANIFEST,
  isImageConfigMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  isSupportedLayerMediaType,
} from "./media-types.js";

export interface ManifestError {
  readonly _tag: "InvalidManifest";
  readonly message: string;
}

const invalid = (message: string): ManifestError => ({ _tag: "InvalidManifest", message });

// io-ts descends into each member of an intersection or union under a key
// "0", "1"..., which the path reporter would print as an array index
// ("layers[2][0].digest"). Those steps are not part of the document.
const isMemberStep = (context: t.Context, i: number): boolean => {
  const parent = context[i - 1]?.type;
  return parent instanceof t.IntersectionType || parent instanceof t.UnionType;
};

/**
 * "<source>: layers[2].digest: expected Digest, got ..." — the source, then the
 * path inside the document, so a reference with a colon in it stays readable.
 */
export const formatDecodeFailure = (source: string, errors: t.Errors): string => {
  // Every member of an intersection fails on a value that is not an object:
  // one fault in the document, counted once.
  const byPath = new Map<string, t.ValidationError>();
  for (const error of errors) {
    const context = error.context.filter((_, i) => !isMemberStep(error.context, i));
    const path = context.map((entry) => entry.key).join("\0");
    if (!byPath.has(path)) byPath.set(path, { ...error, context });
  }
  const line = formatValidationErrors("", [...byPath.values()]);
  return line.startsWith(".") ? `${source}: ${line.slice(1)}` : `${source}${line}`;
};

/** JSON.parse of a blob; the error names the source. */
export const parseJsonBlob = (bytes: Buffer, source: string): E.Either<string, unknown> => {
  try {
    return E.right(JSON.parse(bytes.toString("utf8")));
  } catch (e) {
    return E.left(`${source}: not JSON (${(e as Error).message})`);
  }
};

const isSize = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0;

/** descriptor.md: size is an int64 count of bytes; JSON numbers are exact up to 2^53. */
export const NonNegativeInteger = new t.Type<number, number, unknown>(
  "NonNegativeInteger",
  isSize,
  (u, c) => (isSize(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

const Strings = t.readonlyArray(t.string, "string[]");
const Annotations = t.readonly(t.record(t.string, t.string), "Annotations");

// image-index.md, "platform"; Docker's manifest list carries the same fields.
export const Platform = t.intersection(
  [
    t.readonly(t.type({ architecture: t.string, os: t.string })),
    t.readonly(
      t.partial({ "os.version": t.string, "os.features": Strings, variant: t.string, features: Strings }),
    ),
  ],
  "Platform",
);
export type Platform = t.TypeOf<typeof Platform>;

// descriptor.md, "Properties"; artifactType is image-spec 1.1.
export const Descriptor = t.intersection(
  [
    t.readonly(t.type({ mediaType: t.string, digest: Digest, size: NonNegativeInteger })),
    t.readonly(
      t.partial({ urls: Strings, annotations: Annotations, platform: Platform, artifactType: t.string }),
    ),
  ],
  "Descriptor",
);
export type Descriptor = t.TypeOf<typeof Descriptor>;

const Descriptors = t.readonlyArray(Descriptor, "Descriptor[]");

// manifest.md. layers may be empty: an image built FROM scratch with no files
// has none.
export const ImageManifest = t.intersection(
  [
    t.readonly(t.type({ schemaVersion: t.literal(2), config: Descriptor, layers: Descriptors })),
    t.readonly(
      t.partial({
        mediaType: t.string,
        artifactType: t.string,
        annotations: Annotations,
        subject: Descriptor,
      }),
    ),
  ],
  "ImageManifest",
);
export type ImageManifest = t.TypeOf<typeof ImageManifest>;

// image-index.md; Docker's manifest list is the same shape.
export const ImageIndex = t.intersection(
  [
    t.readonly(t.type({ schemaVersion: t.literal(2), manifests: Descriptors })),
    t.readonly(
      t.partial({
        mediaType: t.string,
        artifactType: t.string,
        annotations: Annotations,
        subject: Descriptor,
      }),
    ),
  ],
  "ImageIndex",
);
export type ImageIndex = t.TypeOf<typeof ImageIndex>;

export type ManifestDocument =
  | { readonly kind: "manifest"; readonly manifest: ImageManifest; readonly mediaType: string }
  | { readonly kind: "index"; readonly index: ImageIndex; readonly mediaType: string };

type Kind = ManifestDocument["kind"];

const kindOfMediaType = (mediaType: string): Kind | undefined =>
  isManifestMediaType(mediaType) ? "manifest" : isIndexMediaType(mediaType) ? "index" : undefined;

/** Content-Type without parameters (RFC 9110 section 8.3.1), lowercased. */
const bareMediaType = (contentType: string): string => (contentType.split(";")[0] ?? "").trim().toLowerCase();

const aKind = (kind: Kind): string => (kind === "index" ? "an index" : "a manifest");

/** The kind the fields say, when they say one. */
const kindOfShape = (doc: Readonly<Record<string, unknown>>): Kind | undefined => {
  const index = doc.manifests !== undefined;
  const manifest = doc.layers !== undefined || doc.config !== undefined;
  if (index === manifest) return undefined;
  return index ? "index" : "manifest";
};

// Schema 1 documents carry no mediaType field, so a registry's Content-Type or
// the schemaVersion is all that names them.
const isSchema1 = (
  doc: Readonly<Record<string, unknown>>,
  declared: string | undefined,
  served: string | undefined,
): boolean =>
  doc.schemaVersion === 1 ||
  (declared !== undefined && isSchema1MediaType(declared)) ||
  (declared === undefined && doc.schemaVersion !== 2 && served !== undefined && isSchema1MediaType(served));

interface Chosen {
  readonly kind: Kind;
  readonly mediaType: string;
}

// The document's own mediaType wins over the Content-Type: registries and
// proxies get headers wrong, and the digest covers the document, not the
// header. Without a mediaType field (optional in OCI manifest.md and
// image-index.md) the fields decide, and the Content-Type only when they
// cannot.
const chooseKind = (
  doc: Readonly<Record<string, unknown>>,
  declared: string | undefined,
  served: string | undefined,
  source: string,
): E.Either<ManifestError, Chosen> => {
  const shape = kindOfShape(doc);
  if (declared !== undefined) {
    const kind = kindOfMediaType(declared);
    if (kind === undefined)
      return E.left(
        invalid(`${source}: mediaType: unsupported manifest media type ${JSON.stringify(declared)}`),
      );
    if (shape !== undefined && shape !== kind)
      return E.left(
        invalid(
          `${source}: mediaType ${JSON.stringify(declared)} is ${aKind(kind)} type, but the document is shaped like ${aKind(shape)}`,
        ),
      );
    return E.right({ kind, mediaType: declared });
  }
  const servedKind = served === undefined ? undefined : kindOfMediaType(served);
  const kind = shape ?? servedKind;
  if (kind === undefined)
    return E.left(
      invalid(
        `${source}: neither an image manifest nor an index (no mediaType, manifests, layers or config)`,
      ),
    );
  // A document without mediaType is OCI: Docker schema 2 requires the field.
  const fallback = kind === "index" ? OCI_INDEX : OCI_MANIFEST;
  return E.right({ kind, mediaType: served !== undefined && servedKind === kind ? served : fallback });
};

const isNondistributable = (mediaType: string): boolean =>
  mediaType === DOCKER_LAYER_FOREIGN_TAR_GZIP ||
  mediaType === OCI_LAYER_NONDISTRIBUTABLE_TAR ||
  mediaType === OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP ||
  mediaType === OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD;

const whyUnsupported = (mediaType: string): string => {
  // ocicrypt's layer types end in "+encrypted" (containers/ocicrypt spec.md).
  if (mediaType.endsWith("+encrypted")) return "encrypted layers are not supported";
  if (isNondistributable(mediaType))
    return "foreign layers live outside the registry, and nook does not fetch them";
  return "nook unpacks tar, tar+gzip and tar+zstd layers";
};

// A manifest whose config is not an image config is an artifact (image-spec
// 1.1 manifest.md, "Guidelines for Artifact Usage"): a Helm chart, a
// signature, an SBOM. Its layers are not filesystems.
const checkIsImage = (manifest: ImageManifest, source: string): E.Either<ManifestError, ImageManifest> => {
  const configType = manifest.config.mediaType;
  if (!isImageConfigMediaType(configType)) {
    const artifact =
      manifest.artifactType === undefined ? "an artifact" : `an artifact of type ${manifest.artifactType}`;
    return E.left(
      invalid(
        `${source}: config.mediaType: ${JSON.stringify(configType)} is not an image config; this is ${artifact}, not a container image`,
      ),
    );
  }
  const bad = manifest.layers.findIndex((layer) => !isSupportedLayerMediaType(layer.mediaType));
  const layer = manifest.layers[bad];
  if (layer === undefined) return E.right(manifest);
  return E.left(
    invalid(
      `${source}: layers[${bad}].mediaType: unsupported layer media type ${JSON.stringify(layer.mediaType)} (${whyUnsupported(layer.mediaType)})`,
    ),
  );
};

const decodeManifest = (
  doc: unknown,
  mediaType: string,
  source: string,
): E.Either<ManifestError, ManifestDocument> =>
  pipe(
    ImageManifest.decode(doc),
    E.mapLeft((errors) => invalid(formatDecodeFailure(source, errors))),
    E.chain((manifest) => checkIsImage(manifest, source)),
    E.map((manifest): ManifestDocument => ({ kind: "manifest", manifest, mediaType })),
  );

const decodeIndex = (
  doc: unknown,
  mediaType: string,
  source: string,
): E.Either<ManifestError, ManifestDocument> =>
  pipe(
    ImageIndex.decode(doc),
    E.mapLeft((errors) => invalid(formatDecodeFailure(source, errors))),
    E.map((index): ManifestDocument => ({ kind: "index", index, mediaType })),
  );

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u);

/**
 * Reads what a registry answered to GET /v2/<name>/manifests/<ref>: an image
 * manifest or an index, OCI or Docker schema 2. `source` starts every error
 * message ("manifest docker.io/library/alpine:latest").
 */
export const parseManifestDocument = (
  bytes: Buffer,
  contentType: string | undefined,
  source: string,
): E.Either<ManifestError, ManifestDocument> => {
  const parsed = parseJsonBlob(bytes, source);
  if (E.isLeft(parsed)) return E.left(invalid(parsed.left));
  const doc = parsed.right;
  if (!isObject(doc)) return E.left(invalid(`${source}: expected a JSON object`));
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  const served = contentType === undefined ? undefined : bareMediaType(contentType);
  if (isSchema1(doc, declared, served))
    return E.left(
      invalid(
        `${source}: Docker schema 1 manifests are not supported (deprecated since 2017); push the image again with a current client`,
      ),
    );
  return pipe(
    chooseKind(doc, declared, served, source),
    E.chain(({ kind, mediaType }) =>
      kind === "index" ? decodeIndex(doc, mediaType, source) : decodeManifest(doc, mediaType, source),
    ),
  );
};
