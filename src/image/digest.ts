// Content digests (OCI image-spec descriptor.md, "Digests"): algorithm ":"
// encoded. nook writes and verifies sha256 only; sha512 is a registered
// algorithm too, so a document that names one still decodes, and the store
// decides what it can verify. Both encodings are lowercase hex of a fixed
// length; the spec's looser grammar admits other algorithms, which no registry
// serves.
import * as t from "io-ts";

interface DigestBrand {
  readonly Digest: unique symbol;
}

const DIGEST = /^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

export const Digest = t.brand(t.string, (s): s is t.Branded<string, DigestBrand> => DIGEST.test(s), "Digest");
export type Digest = t.TypeOf<typeof Digest>;

export const isDigest = (s: string): s is Digest => DIGEST.test(s);

/** The encoded part: "sha256:ab..." -> "ab...". */
export const digestHex = (d: Digest): string => d.slice(d.indexOf(":") + 1);

export const digestAlgorithm = (d: Digest): "sha256" | "sha512" =>
  d.startsWith("sha512:") ? "sha512" : "sha256";
