// What the store writes about its objects, read back through these codecs: a
// store edited by hand or cut off by a crash is reported, never trusted.
import * as t from "io-ts";
import { Digest } from "../image/digest.js";

export const LayerRecord = t.type({
  diffId: Digest,
  /** The compressed blob it came from (the manifest's layer digest). */
  digest: Digest,
  /** Bytes of the regular files the layer holds (what Docker's SIZE adds up). */
  size: t.number,
  /** How OCI whiteouts are stored in diff/ (see rootfs/unpack.ts). */
  whiteouts: t.union([t.literal("overlay"), t.literal("keep")]),
  /** "mapped": owners are the image's, through the subuid map; "squashed": all the user's. */
  owners: t.union([t.literal("mapped"), t.literal("squashed")]),
});
export type LayerRecord = t.TypeOf<typeof LayerRecord>;

export const ImageRecord = t.intersection([
  t.type({
    /** The config's digest, Docker's image id. */
    id: Digest,
    manifestDigest: Digest,
    /** "docker.io/library/busybox@sha256:..." for each repository it was pulled from. */
    repoDigests: t.array(t.string),
    layers: t.array(t.type({ diffId: Digest, digest: Digest, size: t.number })),
    os: t.string,
    architecture: t.string,
    /** When nook stored it. */
    stored: t.string,
  }),
  t.partial({ variant: t.string, created: t.string }),
]);
export type ImageRecord = t.TypeOf<typeof ImageRecord>;
