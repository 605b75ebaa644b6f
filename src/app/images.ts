// The image use cases over the store: list, find by name or id prefix,
// inspect (Docker's JSON shape), tag, and remove with the layers no image
// uses any more.
import * as E from "fp-ts/lib/Either.js";
import { parseImageConfig, type ImageConfig } from "../image/config.js";
import type { Digest } from "../image/digest.js";
import { familiarName, formatReference, parseReference } from "../image/reference.js";
import type { NookError } from "../lib/errors.js";
import { Containers } from "../store/containers.js";
import type { ImageRecord } from "../store/records.js";
import type { Store } from "../store/store.js";

export interface ImageView {
  readonly record: ImageRecord;
  /** Full names of the tags on it: docker.io/library/busybox:latest */
  readonly tags: readonly string[];
  /** Bytes of its layers, uncompressed (what Docker's SIZE column shows). */
  readonly size: number;
}

export { openStore } from "./locations.js";

const layerSizes = async (store: Store, record: ImageRecord): Promise<number> => {
  let total = 0;
  for (const l of record.layers) {
    const r = await store.readLayer(l.diffId);
    total += E.isRight(r) ? r.right.size : 0;
  }
  return total;
};

export const listImages = async (store: Store): Promise<E.Either<NookError, ImageView[]>> => {
  const images = await store.listImages();
  if (E.isLeft(images)) return images;
  const tags = await store.listTags();
  const views: ImageView[] = [];
  for (const record of images.right)
    views.push({
      record,
      tags: tags.filter((t) => t.id === record.id).map((t) => t.name),
      size: await layerSizes(store, record),
    });
  // Newest first, as docker images lists them.
  return E.right(views.sort((a, b) => (b.record.created ?? "").localeCompare(a.record.created ?? "")));
};

export type LookupError = { readonly _tag: "ImageUnknown" | "AmbiguousImage"; readonly message: string };

/**
 * An image by name (busybox, busybox:1.36, 127.0.0.1:5000/x), by id or id
 * prefix (sha256: optional), or by repo digest (name@sha256:...).
 */
/** The view of one image, reading only what it needs (run and inspect by name take this path). */
const viewOf = async (store: Store, record: ImageRecord): Promise<ImageView> => {
  const tags = await store.listTags();
  return {
    record,
    tags: tags.filter((t) => t.id === record.id).map((t) => t.name),
    size: await layerSizes(store, record),
  };
};

export const findImage = async (store: Store, query: string): Promise<E.Either<NookError, ImageView>> => {
  // A name with a tag: one file says which image; no need to read them all.
  const named = /^[0-9a-f]{3,64}$/.test(query.replace(/^sha256:/, "")) ? undefined : parseReference(query);
  if (named && E.isRight(named) && !named.right.digest) {
    const id = await store.getTag(formatReference(named.right));
    const record = id ? await store.getImage(id) : undefined;
    if (record && E.isRight(record)) return E.right(await viewOf(store, record.right));
  }
  const all = await listImages(store);
  if (E.isLeft(all)) return all;
  const hex = query.replace(/^sha256:/, "");
  if (/^[0-9a-f]{3,64}$/.test(hex)) {
    const byId = all.right.filter((v) => v.record.id.slice(7).startsWith(hex));
    if (byId.length === 1) return E.right(byId[0]!);
    if (byId.length > 1)
      return E.left({
        _tag: "AmbiguousImage",
        message: `image id prefix ${query} matches ${byId.length} images; give more digits`,
      });
  }
  const ref = parseReference(query);
  if (E.isRight(ref)) {
    const name = formatReference(ref.right);
    const found = ref.right.digest
      ? all.right.find((v) =>
          v.record.repoDigests.includes(`${ref.right.registry}/${ref.right.repository}@${ref.right.digest}`),
        )
      : all.right.find((v) => v.tags.includes(name));
    if (found) return E.right(found);
  }
  return E.left({ _tag: "ImageUnknown", message: `no such image: ${query}`, exitCode: 1 } as NookError);
};

/** Repository and tag for display, from a full tag name. */
export const splitTag = (name: string): { repository: string; tag: string } => {
  const ref = parseReference(name);
  if (E.isLeft(ref)) return { repository: name, tag: "<none>" };
  return { repository: familiarName(ref.right), tag: ref.right.tag ?? "<none>" };
};

export const readConfig = async (store: Store, record: ImageRecord): Promise<ImageConfig | undefined> => {
  const bytes = await store.getBlob(record.id);
  if (!bytes) return undefined;
  const c = parseImageConfig(bytes, `config ${record.id}`);
  return E.isRight(c) ? c.right : undefined;
};

/** `docker image inspect`'s shape, with what nook knows. */
export const inspectView = async (store: Store, v: ImageView): Promise<Record<string, unknown>> => {
  const config = await readConfig(store, v.record);
  return {
    Id: v.record.id,
    RepoTags: v.tags.map((t) => {
      const { repository, tag } = splitTag(t);
      return `${repository}:${tag}`;
    }),
    RepoDigests: v.record.repoDigests,
    Parent: "",
    Comment: config?.history?.at(-1)?.comment ?? "",
    Created: v.record.created ?? config?.created ?? "",
    Author: config?.author ?? "",
    Config: config?.config ?? {},
    Architecture: v.record.architecture,
    ...(v.record.variant ? { Variant: v.record.variant } : {}),
    Os: v.record.os,
    Size: v.size,
    RootFS: { Type: "layers", Layers: v.record.layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: v.record.stored },
  };
};

export const tagImage = async (
  store: Store,
  source: string,
  target: string,
): Promise<E.Either<NookError, void>> => {
  const found = await findImage(store, source);
  if (E.isLeft(found)) return found;
  const ref = parseReference(target);
  if (E.isLeft(ref)) return ref;
  if (ref.right.digest)
    return E.left({ _tag: "InvalidReference", message: `cannot tag with a digest: ${target}` });
  await store.setTag(formatReference(ref.right), found.right.record.id);
  return E.right(undefined);
};

export interface RemoveReport {
  readonly untagged: string[];
  readonly deleted: Digest[];
}

/** Images that containers were made from: image id -> the name of one such container. */
export const imagesInUse = (store: Store): Map<string, string> =>
  new Map(new Containers(store).list().map((c) => [c.imageId, c.name]));

/** Layers no remaining image or container lists. Runs inside the user namespace: layer files belong to subordinate ids. */
const collectLayers = async (store: Store): Promise<Digest[]> => {
  const images = await store.listImages();
  if (E.isLeft(images)) return [];
  const used = new Set<string>(images.right.flatMap((i) => i.layers.map((l) => l.diffId)));
  // A container's rootfs stands on its layers whatever happened to its image.
  for (const c of new Containers(store).list())
    for (const l of c.spec.layers) used.add(`sha256:${l.split("/")[0] ?? ""}`);
  const removed: Digest[] = [];
  for (const diffId of await store.listLayers()) {
    // Held: a pull or load is about to list it in an image record.
    if (used.has(diffId) || store.heldLayers().has(diffId)) continue;
    await store.removeLayer(diffId);
    removed.push(diffId);
  }
  return removed;
};

/**
 * docker rmi: a name removes that tag, and the image with its last tag; an
 * id removes the image, refusing when several tags name it unless forced.
 */
export const removeImages = async (
  store: Store,
  queries: readonly string[],
  force: boolean,
): Promise<{ report: RemoveReport; errors: NookError[] }> => {
  const report: RemoveReport = { untagged: [], deleted: [] };
  const errors: NookError[] = [];
  const inUse = imagesInUse(store);
  for (const q of queries) {
    const found = await findImage(store, q);
    if (E.isLeft(found)) {
      errors.push(found.left);
      continue;
    }
    const v = found.right;
    const ref = parseReference(q);
    const asName = E.isRight(ref) ? formatReference(ref.right) : undefined;
    const byName = asName !== undefined && v.tags.includes(asName);
    const untag = byName ? [asName] : [...v.tags];
    if (!byName && v.tags.length > 1 && !force) {
      errors.push({
        _tag: "ImageInUse",
        message: `unable to delete ${v.record.id.slice(7, 19)} (must be forced): image is referenced in multiple repositories`,
        hint: `remove the tags one by one, or use nook rmi -f ${q}`,
      });
      continue;
    }
    const user = inUse.get(v.record.id);
    const last = v.tags.length - untag.length <= 0;
    // Docker's rule: an image a container was made from stays; without -f
    // even its last name does.
    if (last && user !== undefined && !force) {
      errors.push({
        _tag: "ImageInUse",
        message: `unable to remove ${q} (must be forced): container ${user} is using image ${v.record.id.slice(7, 19)}`,
        hint: `remove the container first (nook rm ${user}), or untag with nook rmi -f ${q}`,
      });
      continue;
    }
    for (const t of untag) {
      await store.removeTag(t);
      const { repository, tag } = splitTag(t);
      report.untagged.push(`${repository}:${tag}`);
    }
    if (last && user === undefined) {
      await store.removeImage(v.record.id);
      await store.removeBlob(v.record.id);
      await store.removeBlob(v.record.manifestDigest);
      report.deleted.push(v.record.id);
    }
  }
  if (report.deleted.length > 0) report.deleted.push(...(await collectLayers(store)));
  return { report, errors };
};
