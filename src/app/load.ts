// nook load: images from an archive into the store, as `docker load` and
// `podman load` take them:
//   - a docker save archive (manifest.json: Config, RepoTags, Layers; layers
//     plain or gzip tar), from docker, podman or skopeo;
//   - an OCI layout as a tar (oci-layout, index.json, blobs/), from podman
//     save --format oci-archive or skopeo copy ... oci-archive:;
//   - an OCI layout directory (-i DIR).
// The archive itself may be gzip-compressed.
//
// Everything is checked before anything becomes visible: every JSON
// document is decoded, every blob named by a digest must hash to it, each
// layer must unpack to the diff id the config gives it, and an index picks
// the host's platform. New layers unpack into store temp directories, and
// only when every image of the archive has checked out are the layers
// renamed into place and the configs, manifests, image records and tags
// written. A failure removes the temp directories: nothing of the archive is
// left. Layers the store already has are not unpacked again.
//
// Runs as root of the user's user namespace (see in-userns.ts), like pull.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import * as E from "fp-ts/lib/Either.js";
import { digestNamedBy, memberPath } from "../image/archive-member.js";
import { checkConfigAgainstManifest, parseImageConfig, type ImageConfig } from "../image/config.js";
import { type Digest } from "../image/digest.js";
import {
  DOCKER_ARCHIVE_MANIFEST,
  parseDockerArchiveManifest,
  repoTagReference,
} from "../image/docker-archive.js";
import { parseManifestDocument, type Descriptor, type ImageManifest } from "../image/manifest.js";
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from "../image/media-types.js";
import {
  layoutBlobPath,
  loadedName,
  OCI_INDEX_FILE,
  OCI_LAYOUT_FILE,
  parseLayoutIndex,
  parseOciLayout,
} from "../image/oci-layout.js";
import { hostPlatform, selectManifest } from "../image/platform.js";
import { formatReference, type Reference } from "../image/reference.js";
import type { NookError } from "../lib/errors.js";
import { unpackLayer, type UnpackOptions, type UnpackResult } from "../rootfs/unpack.js";
import type { ImageRecord, LayerRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { directoryFiles, spoolArchive, type ArchiveFiles, type ArchiveMember } from "./archive-files.js";

export type LoadSource =
  | { readonly kind: "stream"; readonly input: AsyncIterable<unknown>; readonly name: string }
  | { readonly kind: "directory"; readonly path: string };

export interface LoadEvents {
  layer(diffId: Digest, status: "exists" | "loading" | "loaded"): void;
}

export interface LoadOptions {
  readonly unpack: UnpackOptions;
  readonly events?: LoadEvents;
}

export interface LoadedImage {
  readonly id: Digest;
  /** Full names: docker.io/library/busybox:latest. */
  readonly tags: readonly string[];
  /** Tags that named another image before, with that image's id. */
  readonly moved: readonly { readonly name: string; readonly from: Digest }[];
}

interface LayerPlan {
  readonly diffId: Digest;
  readonly member: ArchiveMember;
  /** The member's name in messages. */
  readonly source: string;
  /** The digest the archive names the blob by, which its bytes must have. */
  readonly blobDigest: Digest | undefined;
}

interface ImagePlan {
  readonly id: Digest;
  readonly configBytes: Buffer;
  readonly config: ImageConfig;
  readonly layers: readonly LayerPlan[];
  /** The manifest the archive holds (OCI), or none (docker save has none: one is made). */
  readonly manifest:
    { readonly bytes: Buffer; readonly digest: Digest; readonly parsed: ImageManifest } | undefined;
  readonly tags: Reference[];
}

/** Configs, manifests and index.json are small; a bigger one is not what it claims to be. */
const MAX_JSON_BYTES = 16 << 20;

const sha256 = (b: Buffer): Digest => `sha256:${createHash("sha256").update(b).digest("hex")}` as Digest;

const invalid = (message: string): NookError => ({ _tag: "InvalidArchive", message });
const mismatch = (message: string): NookError => ({ _tag: "DigestMismatch", message });

/** A member the metadata names: it must exist. */
const needMember = async (
  files: ArchiveFiles,
  name: string,
  namedBy: string,
): Promise<E.Either<NookError, ArchiveMember>> => {
  const path = memberPath(name);
  if (path === undefined)
    return E.left(
      invalid(`${files.name}: ${namedBy} names ${JSON.stringify(name)}, which is outside the archive`),
    );
  const m = await files.member(path);
  return m
    ? E.right(m)
    : E.left(
        invalid(`${files.name}: ${namedBy} names ${JSON.stringify(name)}, which the archive does not have`),
      );
};

/** A small member's bytes, checked against the digest that names it when there is one. */
const readSmall = async (
  files: ArchiveFiles,
  name: string,
  namedBy: string,
  expected: Digest | undefined,
): Promise<E.Either<NookError, Buffer>> => {
  const m = await needMember(files, name, namedBy);
  if (E.isLeft(m)) return m;
  if (m.right.size > MAX_JSON_BYTES)
    return E.left(invalid(`${files.name}: ${name} is ${m.right.size} bytes, too big for image metadata`));
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(m.right.file);
  } catch (e) {
    return E.left({
      _tag: "LoadIoError",
      message: `${files.name}: reading ${name}: ${(e as Error).message}`,
    });
  }
  const actual = sha256(bytes);
  if (expected !== undefined && actual !== expected)
    return E.left(mismatch(`${files.name}: ${name} has digest ${actual}, not ${expected}: refusing it`));
  return E.right(bytes);
};

const sha256Only = (files: ArchiveFiles, d: Digest, what: string): E.Either<NookError, Digest> =>
  d.startsWith("sha256:")
    ? E.right(d)
    : E.left(invalid(`${files.name}: ${what} ${d}: nook verifies sha256 digests only`));

// ------------------------------------------------------------------ docker save

const dockerPlans = async (files: ArchiveFiles): Promise<E.Either<NookError, ImagePlan[]>> => {
  const manifestBytes = await readSmall(files, DOCKER_ARCHIVE_MANIFEST, "the archive", undefined);
  if (E.isLeft(manifestBytes)) return manifestBytes;
  const entries = parseDockerArchiveManifest(
    manifestBytes.right,
    `${files.name}: ${DOCKER_ARCHIVE_MANIFEST}`,
  );
  if (E.isLeft(entries)) return entries;
  const plans: ImagePlan[] = [];
  for (const [i, entry] of entries.right.entries()) {
    const where = `${DOCKER_ARCHIVE_MANIFEST}[${i}]`;
    const configPath = memberPath(entry.Config) ?? entry.Config;
    const configBytes = await readSmall(files, entry.Config, `${where}.Config`, digestNamedBy(configPath));
    if (E.isLeft(configBytes)) return configBytes;
    const config = parseImageConfig(configBytes.right, `${files.name}: ${configPath}`);
    if (E.isLeft(config)) return config;
    const diffIds = config.right.rootfs.diff_ids;
    if (diffIds.length !== entry.Layers.length)
      return E.left(
        invalid(
          `${files.name}: ${where} lists ${entry.Layers.length} layers, but its config's rootfs.diff_ids has ${diffIds.length}`,
        ),
      );
    const layers: LayerPlan[] = [];
    for (const [j, name] of entry.Layers.entries()) {
      const member = await needMember(files, name, `${where}.Layers[${j}]`);
      if (E.isLeft(member)) return member;
      const diffId = sha256Only(files, diffIds[j]!, `rootfs.diff_ids[${j}]`);
      if (E.isLeft(diffId)) return diffId;
      const path = memberPath(name) ?? name;
      layers.push({
        diffId: diffId.right,
        member: member.right,
        source: path,
        blobDigest: digestNamedBy(path),
      });
    }
    const tags: Reference[] = [];
    for (const t of entry.RepoTags ?? []) {
      const ref = repoTagReference(t, `${files.name}: ${where}`);
      if (E.isLeft(ref)) return ref;
      tags.push(ref.right);
    }
    plans.push({
      id: sha256(configBytes.right),
      configBytes: configBytes.right,
      config: config.right,
      layers,
      manifest: undefined,
      tags,
    });
  }
  return E.right(plans);
};

// ------------------------------------------------------------------ OCI layout

/** The image manifest an index.json entry names: itself, or its index's pick for this host. */
const resolveEntry = async (
  files: ArchiveFiles,
  d: Descriptor,
  where: string,
): Promise<E.Either<NookError, { bytes: Buffer; digest: Digest; manifest: ImageManifest }>> => {
  const digest = sha256Only(files, d.digest, `${where}.digest`);
  if (E.isLeft(digest)) return digest;
  const bytes = await readSmall(files, layoutBlobPath(d.digest), where, d.digest);
  if (E.isLeft(bytes)) return bytes;
  const source = `${files.name}: manifest ${d.digest}`;
  const doc = parseManifestDocument(bytes.right, d.mediaType, source);
  if (E.isLeft(doc)) return doc;
  if (doc.right.kind === "manifest")
    return E.right({ bytes: bytes.right, digest: d.digest, manifest: doc.right.manifest });
  const picked = selectManifest(doc.right.index, hostPlatform(), `${files.name}: index ${d.digest}`);
  if (E.isLeft(picked)) return picked;
  const innerDigest = sha256Only(files, picked.right.digest, `index ${d.digest}`);
  if (E.isLeft(innerDigest)) return innerDigest;
  const inner = await readSmall(
    files,
    layoutBlobPath(picked.right.digest),
    `index ${d.digest}`,
    picked.right.digest,
  );
  if (E.isLeft(inner)) return inner;
  const innerDoc = parseManifestDocument(
    inner.right,
    picked.right.mediaType,
    `${files.name}: manifest ${picked.right.digest}`,
  );
  if (E.isLeft(innerDoc)) return innerDoc;
  if (innerDoc.right.kind !== "manifest")
    return E.left(invalid(`${files.name}: index ${d.digest}: an index inside an index is not supported`));
  return E.right({ bytes: inner.right, digest: picked.right.digest, manifest: innerDoc.right.manifest });
};

const ociPlan = async (
  files: ArchiveFiles,
  d: Descriptor,
  where: string,
): Promise<E.Either<NookError, ImagePlan>> => {
  const name = loadedName(d, `${files.name}: ${where}`);
  if (E.isLeft(name)) return name;
  const resolved = await resolveEntry(files, d, where);
  if (E.isLeft(resolved)) return resolved;
  const { manifest } = resolved.right;
  const configDigest = sha256Only(files, manifest.config.digest, "config");
  if (E.isLeft(configDigest)) return configDigest;
  const configBytes = await readSmall(
    files,
    layoutBlobPath(manifest.config.digest),
    `manifest ${resolved.right.digest}`,
    manifest.config.digest,
  );
  if (E.isLeft(configBytes)) return configBytes;
  const source = `${files.name}: config ${manifest.config.digest}`;
  const config = parseImageConfig(configBytes.right, source);
  if (E.isLeft(config)) return config;
  const consistent = checkConfigAgainstManifest(config.right, manifest, source);
  if (E.isLeft(consistent)) return consistent;
  const layers: LayerPlan[] = [];
  for (const [j, l] of manifest.layers.entries()) {
    const blob = sha256Only(files, l.digest, `layers[${j}].digest`);
    if (E.isLeft(blob)) return blob;
    const diffId = sha256Only(files, config.right.rootfs.diff_ids[j]!, `rootfs.diff_ids[${j}]`);
    if (E.isLeft(diffId)) return diffId;
    const path = layoutBlobPath(l.digest);
    const member = await needMember(files, path, `manifest ${resolved.right.digest}`);
    if (E.isLeft(member)) return member;
    layers.push({ diffId: diffId.right, member: member.right, source: path, blobDigest: l.digest });
  }
  return E.right({
    id: manifest.config.digest,
    configBytes: configBytes.right,
    config: config.right,
    layers,
    manifest: { bytes: resolved.right.bytes, digest: resolved.right.digest, parsed: manifest },
    tags: name.right === undefined ? [] : [name.right],
  });
};

const ociPlans = async (files: ArchiveFiles): Promise<E.Either<NookError, ImagePlan[]>> => {
  for (const f of [OCI_LAYOUT_FILE, OCI_INDEX_FILE])
    if (!(await files.member(f)))
      return E.left(invalid(`${files.name} is not a complete OCI layout: it has no ${f} file`));
  const layoutBytes = await readSmall(files, OCI_LAYOUT_FILE, "the layout", undefined);
  if (E.isLeft(layoutBytes)) return layoutBytes;
  const layout = parseOciLayout(layoutBytes.right, `${files.name}: ${OCI_LAYOUT_FILE}`);
  if (E.isLeft(layout)) return layout;
  const indexBytes = await readSmall(files, OCI_INDEX_FILE, "the layout", undefined);
  if (E.isLeft(indexBytes)) return indexBytes;
  const index = parseLayoutIndex(indexBytes.right, `${files.name}: ${OCI_INDEX_FILE}`);
  if (E.isLeft(index)) return index;
  if (index.right.manifests.length === 0)
    return E.left(invalid(`${files.name}: ${OCI_INDEX_FILE} lists no images`));
  const plans: ImagePlan[] = [];
  for (const [i, d] of index.right.manifests.entries()) {
    const plan = await ociPlan(files, d, `${OCI_INDEX_FILE} manifests[${i}]`);
    if (E.isLeft(plan)) return plan;
    plans.push(plan.right);
  }
  return E.right(plans);
};

const plansOf = async (files: ArchiveFiles): Promise<E.Either<NookError, ImagePlan[]>> => {
  // docker load reads manifest.json when there is one; Docker 25+ archives are OCI layouts too.
  if (await files.member(DOCKER_ARCHIVE_MANIFEST)) return dockerPlans(files);
  if ((await files.member(OCI_INDEX_FILE)) || (await files.member(OCI_LAYOUT_FILE))) return ociPlans(files);
  return E.left(
    invalid(
      `${files.name} is neither a docker save archive (no manifest.json) nor an OCI layout (no oci-layout and index.json)`,
    ),
  );
};

// ------------------------------------------------------------------ layers

interface Unpacked {
  readonly dir: string;
  readonly record: LayerRecord;
}

/** The member's bytes, hashed into `hash` as they are read. */
async function* hashedFile(file: string, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    yield chunk as Buffer;
  }
}

const hashFile = async (file: string): Promise<Digest> => {
  const hash = createHash("sha256");
  for await (const _ of hashedFile(file, hash));
  return `sha256:${hash.digest("hex")}` as Digest;
};

/** Unpacks one layer into a fresh temp dir and checks both its digests; the caller commits or removes it. */
const unpackPlanned = async (
  store: Store,
  files: ArchiveFiles,
  layer: LayerPlan,
  unpack: UnpackOptions,
): Promise<E.Either<NookError, Unpacked>> => {
  const known = layer.member.digest;
  if (known !== undefined && layer.blobDigest !== undefined && known !== layer.blobDigest)
    return E.left(
      mismatch(`${files.name}: ${layer.source} has digest ${known}, not ${layer.blobDigest}: refusing it`),
    );
  const dir = await store.tempDir("layer");
  const hash = createHash("sha256");
  const result: E.Either<NookError, UnpackResult> = await (async () => {
    const tree = join(dir, "diff");
    await mkdir(tree, { mode: 0o755 });
    return unpackLayer(Readable.from(hashedFile(layer.member.file, hash)), tree, unpack);
  })().catch((e: Error) => E.left({ _tag: "LoadIoError", message: e.message }));
  const fail = async (e: NookError): Promise<E.Either<NookError, never>> => {
    await rm(dir, { recursive: true, force: true });
    return E.left(e);
  };
  if (E.isLeft(result))
    return fail({ ...result.left, message: `${files.name}: ${layer.source}: ${result.left.message}` });
  const digest = known ?? (`sha256:${hash.digest("hex")}` as Digest);
  if (layer.blobDigest !== undefined && digest !== layer.blobDigest)
    return fail(
      mismatch(`${files.name}: ${layer.source} has digest ${digest}, not ${layer.blobDigest}: refusing it`),
    );
  if (result.right.diffId !== layer.diffId)
    return fail(
      mismatch(
        `${files.name}: ${layer.source} unpacks to diff id ${result.right.diffId}, but the image config says ${layer.diffId}`,
      ),
    );
  return E.right({
    dir,
    record: {
      diffId: layer.diffId,
      digest,
      size: result.right.bytes,
      whiteouts: unpack.whiteouts,
      owners: unpack.preserveOwner ? "mapped" : "squashed",
    },
  });
};

/** The blob digest of a layer: the one the archive names it by, else its hash (known once it was read). */
const blobDigestOf = async (layer: LayerPlan, read: ReadonlyMap<Digest, Digest>): Promise<Digest> =>
  layer.blobDigest ?? layer.member.digest ?? read.get(layer.diffId) ?? (await hashFile(layer.member.file));

const isGzip = async (file: string): Promise<boolean> => {
  const fh = await fs.promises.open(file, "r");
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
};

/** docker save has no manifest: nook stores an OCI one for the image, with the layers as the archive held them. */
const makeManifest = async (
  plan: ImagePlan,
  read: ReadonlyMap<Digest, Digest>,
): Promise<{ bytes: Buffer; digest: Digest; layers: { digest: Digest; size: number }[] }> => {
  const layers = [];
  for (const l of plan.layers) {
    layers.push({
      mediaType: (await isGzip(l.member.file)) ? OCI_LAYER_TAR_GZIP : OCI_LAYER_TAR,
      digest: await blobDigestOf(l, read),
      size: l.member.size,
    });
  }
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: plan.id, size: plan.configBytes.length },
      layers,
    }),
  );
  return { bytes, digest: sha256(bytes), layers };
};

// ------------------------------------------------------------------ the use case

const storeImage = async (
  store: Store,
  plan: ImagePlan,
  read: ReadonlyMap<Digest, Digest>,
): Promise<E.Either<NookError, LoadedImage>> => {
  const made = plan.manifest === undefined ? await makeManifest(plan, read) : undefined;
  const manifest = plan.manifest ?? made!;
  const layerBlobs = plan.manifest
    ? plan.manifest.parsed.layers.map((l) => ({ digest: l.digest, size: l.size }))
    : made!.layers;
  for (const [d, b] of [
    [plan.id, plan.configBytes],
    [manifest.digest, manifest.bytes],
  ] as const) {
    const stored = await store.putBlob(d, b);
    if (E.isLeft(stored)) return stored;
  }
  const c = plan.config;
  const previous = await store.getImage(plan.id);
  if (E.isLeft(previous)) {
    const record: ImageRecord = {
      id: plan.id,
      manifestDigest: manifest.digest,
      repoDigests: [],
      layers: plan.layers.map((l, i) => ({ diffId: l.diffId, ...layerBlobs[i]! })),
      os: c.os,
      architecture: c.architecture,
      stored: new Date().toISOString(),
      ...(c.variant ? { variant: c.variant } : {}),
      ...(c.created ? { created: c.created } : {}),
    };
    await store.putImage(record);
  }
  const before = new Map((await store.listTags()).map((t) => [t.name, t.id]));
  const tags: string[] = [];
  const moved: { name: string; from: Digest }[] = [];
  for (const ref of plan.tags) {
    const name = formatReference(ref);
    const old = before.get(name);
    if (old !== undefined && old !== plan.id) moved.push({ name, from: old });
    await store.setTag(name, plan.id);
    if (!tags.includes(name)) tags.push(name);
  }
  return E.right({ id: plan.id, tags, moved });
};

const loadFrom = async (
  store: Store,
  files: ArchiveFiles,
  opts: LoadOptions,
  unpacked: Map<Digest, Unpacked>,
): Promise<E.Either<NookError, LoadedImage[]>> => {
  const plans = await plansOf(files);
  if (E.isLeft(plans)) return plans;
  // Held from before the presence checks until the image records list them.
  const release = await store.holdLayers(plans.right.flatMap((p) => p.layers.map((l) => l.diffId)));
  try {
    return await loadPlanned(store, files, opts, unpacked, plans.right);
  } finally {
    await release();
  }
};

const loadPlanned = async (
  store: Store,
  files: ArchiveFiles,
  opts: LoadOptions,
  unpacked: Map<Digest, Unpacked>,
  plans: readonly ImagePlan[],
): Promise<E.Either<NookError, LoadedImage[]>> => {
  /** diff id -> digest of the blob it was unpacked from. */
  const read = new Map<Digest, Digest>();
  for (const layer of plans.flatMap((p) => p.layers)) {
    if (unpacked.has(layer.diffId)) continue;
    if (await store.hasLayer(layer.diffId)) {
      opts.events?.layer(layer.diffId, "exists");
      continue;
    }
    opts.events?.layer(layer.diffId, "loading");
    const r = await unpackPlanned(store, files, layer, opts.unpack);
    if (E.isLeft(r)) return r;
    unpacked.set(layer.diffId, r.right);
    read.set(layer.diffId, r.right.record.digest);
    opts.events?.layer(layer.diffId, "loaded");
  }
  // Every image checked out: now the layers become visible, then the images.
  for (const [diffId, u] of unpacked) {
    const committed = await store.commitLayer(u.dir, u.record);
    if (E.isLeft(committed)) return committed;
    unpacked.delete(diffId);
    // Another process stored the same layer first: its copy serves.
    if (!committed.right) await rm(u.dir, { recursive: true, force: true });
  }
  const loaded: LoadedImage[] = [];
  for (const plan of plans) {
    const r = await storeImage(store, plan, read);
    if (E.isLeft(r)) return r;
    const same = loaded.findIndex((l) => l.id === r.right.id);
    if (same === -1) loaded.push(r.right);
    else
      loaded[same] = {
        id: r.right.id,
        tags: [...new Set([...loaded[same]!.tags, ...r.right.tags])],
        moved: [...loaded[same]!.moved, ...r.right.moved],
      };
  }
  return E.right(loaded);
};

/**
 * Loads every image of the archive. On Left nothing of it is in the store,
 * unless the failure was the store's own (a write failing after the checks).
 */
export const loadImages = async (
  store: Store,
  source: LoadSource,
  opts: LoadOptions,
): Promise<E.Either<NookError, LoadedImage[]>> => {
  store.init();
  store.clearStaleTemp();
  const spool = source.kind === "stream" ? await store.tempDir("load") : undefined;
  const unpacked = new Map<Digest, Unpacked>();
  try {
    let files: ArchiveFiles;
    if (source.kind === "stream") {
      const spooled = await spoolArchive(source.input, spool!, source.name);
      if (E.isLeft(spooled)) return spooled;
      files = spooled.right;
    } else files = directoryFiles(source.path, `directory ${source.path}`);
    return await loadFrom(store, files, opts, unpacked);
  } finally {
    for (const u of unpacked.values()) await rm(u.dir, { recursive: true, force: true });
    if (spool !== undefined) await rm(spool, { recursive: true, force: true });
  }
};
