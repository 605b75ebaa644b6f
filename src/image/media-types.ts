// Media types of the documents and blobs nook meets in a registry: OCI
// image-spec media-types.md, and Docker's "Image Manifest V2, Schema 2"
// (distribution docs/spec/manifest-v2-2.md), which OCI 1.0 was derived from.

// OCI image-spec media-types.md.
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
export const OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const OCI_LAYER_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
// Deprecated in image-spec 1.1 (layer.md, "Non-Distributable Layers"): content
// the registry may not hold, fetched from the descriptor's urls instead.
export const OCI_LAYER_NONDISTRIBUTABLE_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar";
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP =
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD =
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
// image-spec 1.1 manifest.md, "Guidance for an Empty Descriptor": the config of
// an artifact that has none.
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";

// Docker manifest v2 schema 2, "Media Types".
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const DOCKER_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
export const DOCKER_LAYER_FOREIGN_TAR_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

// Docker schema 1 (manifest-v2-1.md): signed, no config blob, no digests of the
// uncompressed layers. Recognised only to be refused with a clear message.
export const DOCKER_SCHEMA1_MANIFEST = "application/vnd.docker.distribution.manifest.v1+json";
export const DOCKER_SCHEMA1_SIGNED_MANIFEST = "application/vnd.docker.distribution.manifest.v1+prettyjws";

const MANIFEST_TYPES: ReadonlySet<string> = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);
const SCHEMA1_TYPES: ReadonlySet<string> = new Set([DOCKER_SCHEMA1_MANIFEST, DOCKER_SCHEMA1_SIGNED_MANIFEST]);
const CONFIG_TYPES: ReadonlySet<string> = new Set([OCI_CONFIG, DOCKER_CONFIG]);
const LAYER_TYPES: ReadonlySet<string> = new Set([
  OCI_LAYER_TAR,
  OCI_LAYER_TAR_GZIP,
  OCI_LAYER_TAR_ZSTD,
  DOCKER_LAYER_TAR_GZIP,
]);

export const isManifestMediaType = (mediaType: string): boolean => MANIFEST_TYPES.has(mediaType);
export const isIndexMediaType = (mediaType: string): boolean => INDEX_TYPES.has(mediaType);
export const isSchema1MediaType = (mediaType: string): boolean => SCHEMA1_TYPES.has(mediaType);
export const isImageConfigMediaType = (mediaType: string): boolean => CONFIG_TYPES.has(mediaType);
/** Layers nook can unpack: plain, gzip or zstd tar. */
export const isSupportedLayerMediaType = (mediaType: string): boolean => LAYER_TYPES.has(mediaType);

/**
 * Accept header for manifest requests. A registry that holds an index answers
 * with it only when the client lists an index type (distribution spec,
 * "Pulling manifests"); without them a registry may answer a multi-arch tag
 * with one platform's manifest (distribution falls back to linux/amd64) or
 * refuse it. Schema 1 is left out: nook
 * cannot read it, and a registry that has nothing else serves it anyway, which
 * the parser then refuses by name.
 */
export const ACCEPT_MANIFESTS = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].join(", ");
