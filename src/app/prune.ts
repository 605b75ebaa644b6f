// nook image prune: removes the images no tag names (docker's "dangling"
// images), or with all every image no container uses. nook has no
// containers yet, so that is every image. Layers go with the last image that
// lists them; the space reclaimed is their unpacked size.
//
// Runs as root of the user's user namespace, like rmi: layer files belong to
// subordinate ids.
import * as E from "fp-ts/lib/Either.js";
import type { Digest } from "../image/digest.js";
import type { NookError } from "../lib/errors.js";
import type { Store } from "../store/store.js";
import { imagesInUse, listImages, removeImages } from "./images.js";

export interface PruneReport {
  /** "busybox:latest", as rmi reports them. */
  readonly untagged: readonly string[];
  /** Image ids, then the layers that went with them. */
  readonly deleted: readonly Digest[];
  /** Bytes of the layers removed. */
  readonly reclaimed: number;
}

const layerSizes = async (store: Store): Promise<Map<Digest, number>> => {
  const sizes = new Map<Digest, number>();
  for (const diffId of await store.listLayers()) {
    const r = await store.readLayer(diffId);
    sizes.set(diffId, E.isRight(r) ? r.right.size : 0);
  }
  return sizes;
};

export const pruneImages = async (store: Store, all: boolean): Promise<E.Either<NookError, PruneReport>> => {
  const listed = await listImages(store);
  if (E.isLeft(listed)) return listed;
  // Images containers were made from are not unused (docker image prune keeps them too).
  const inUse = imagesInUse(store);
  const doomed = listed.right
    .filter((v) => (all || v.tags.length === 0) && !inUse.has(v.record.id))
    .map((v) => v.record.id);
  if (doomed.length === 0) return E.right({ untagged: [], deleted: [], reclaimed: 0 });
  const sizes = await layerSizes(store);
  // By full id, forced: every tag of the image goes with it.
  const { report, errors } = await removeImages(store, doomed, true);
  if (errors[0] !== undefined) return E.left(errors[0]);
  const reclaimed = report.deleted.reduce((n, d) => n + (sizes.get(d) ?? 0), 0);
  return E.right({ untagged: report.untagged, deleted: report.deleted, reclaimed });
};
