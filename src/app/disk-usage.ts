// nook system df: what the store holds, in the rows docker system df shows.
// Image size is the unpacked size of the layers the images list, each layer
// counted once however many images share it. Containers, volumes and the
// build cache do not exist in nook yet: their rows are zero.
import * as E from "fp-ts/lib/Either.js";
import type { Digest } from "../image/digest.js";
import type { NookError } from "../lib/errors.js";
import type { Store } from "../store/store.js";

export interface UsageRow {
  readonly type: "Images" | "Containers" | "Local Volumes" | "Build Cache";
  readonly total: number;
  readonly active: number;
  /** Bytes. */
  readonly size: number;
  /** Bytes that removing what nothing uses would free. */
  readonly reclaimable: number;
}

export const diskUsage = async (store: Store): Promise<E.Either<NookError, UsageRow[]>> => {
  const images = await store.listImages();
  if (E.isLeft(images)) return images;
  const layers = new Set<Digest>(images.right.flatMap((i) => i.layers.map((l) => l.diffId)));
  let size = 0;
  for (const diffId of layers) {
    const r = await store.readLayer(diffId);
    if (E.isRight(r)) size += r.right.size;
  }
  // No container uses an image yet: none is active, and all of it is reclaimable.
  return E.right([
    { type: "Images", total: images.right.length, active: 0, size, reclaimable: size },
    { type: "Containers", total: 0, active: 0, size: 0, reclaimable: 0 },
    { type: "Local Volumes", total: 0, active: 0, size: 0, reclaimable: 0 },
    { type: "Build Cache", total: 0, active: 0, size: 0, reclaimable: 0 },
  ]);
};
