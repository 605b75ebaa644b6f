// Names of files inside an image archive (a docker-archive or an OCI layout
// packed as a tar). The metadata names its blobs by paths relative to the
// archive's root; a path that is absolute or climbs out with ".." names
// nothing in the archive, whatever the tar holds.
import type { Digest } from "./digest.js";

/** "./a//b/" -> "a/b"; undefined for "", an absolute path or one with a ".." component. */
export const memberPath = (name: string): string | undefined => {
  if (name.startsWith("/")) return undefined;
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..")) return undefined;
  return parts.join("/");
};

/**
 * Where a symbolic link member points, as a member path: docker save's
 * legacy layout links "<id>/layer.tar" to "../<digest>.tar". Undefined for an
 * absolute target or one that leaves the archive.
 */
export const linkTarget = (linkPath: string, target: string): string | undefined => {
  if (target.startsWith("/")) return undefined;
  const dir = linkPath.split("/").slice(0, -1);
  const out: string[] = [];
  for (const p of [...dir, ...target.split("/")]) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(p);
  }
  return out.length === 0 ? undefined : out.join("/");
};

const DIGEST_NAMED = /^(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json|\.tar)?$/;

/**
 * The digest a member's name claims for its bytes: "<hex>.json" (a config in
 * docker save's format), "<hex>.tar" (a layer as skopeo writes it),
 * "blobs/sha256/<hex>" (OCI layouts, and docker save since Docker 25).
 * Undefined when the name is not a digest ("<id>/layer.tar" of older Docker).
 */
export const digestNamedBy = (path: string): Digest | undefined => {
  const m = DIGEST_NAMED.exec(path);
  return m?.[1] === undefined ? undefined : (`sha256:${m[1]}` as Digest);
};
