// nook save: images from the store into an archive, as `docker save` writes
// it (docker-archive: manifest.json, <config>.json, <layer>.tar) or as
// `podman save --format oci-archive` does (an OCI layout in a tar).
//
// The store keeps layers unpacked, not their tars, so each layer is packed
// again from its directory (rootfs/pack.ts). That tar is not the original's
// bytes, so its digest is a new diff id: the archive's config is the stored
// config with rootfs.diff_ids replaced by the new ones, and the image's id in
// the archive (its config digest) differs from the id in the store, as with
// `podman save` of an image whose layers it has converted. The packing is
// deterministic, so saving the same image again gives the same archive ids,
// and an image loaded from a nook archive saves under the id it loaded with.
//
// Each layer is packed into a store temp file first: the outer tar needs a
// member's size before its bytes, and OCI names the member by its digest.
//
// Runs as root of the user's user namespace: the layer files have the
// image's owners there, and files the image made unreadable can be read.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Writable } from "node:stream";
import * as E from "fp-ts/lib/Either.js";
import { digestHex, type Digest } from "../image/digest.js";
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_TAR, OCI_MANIFEST } from "../image/media-types.js";
import { layoutBlobPath, OCI_INDEX_FILE, OCI_LAYOUT_FILE, REF_NAME_ANNOTATION } from "../image/oci-layout.js";
import { formatReference, parseReference } from "../image/reference.js";
import type { NookError } from "../lib/errors.js";
import { asPackError, packLayer } from "../rootfs/pack.js";
import { encodeHeader, END_OF_ARCHIVE, padding, type TarEntry } from "../rootfs/tar-header.js";
import type { ImageRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { findImage, splitTag } from "./images.js";

export type SaveFormat = "docker-archive" | "oci-archive";
export const SAVE_FORMATS: readonly SaveFormat[] = ["docker-archive", "oci-archive"];

export interface SaveRequest {
  readonly images: readonly string[];
  readonly format: SaveFormat;
}

interface Chosen {
  readonly record: ImageRecord;
  /** Full names to write for it: the tags the request named. */
  readonly tags: string[];
}

interface Packed {
  readonly diffId: Digest;
  readonly file: string;
  readonly size: number;
}

interface Prepared {
  readonly chosen: Chosen;
  readonly config: Buffer;
  readonly id: Digest;
  readonly layers: readonly Packed[];
}

const sha256 = (b: Buffer): Digest => `sha256:${createHash("sha256").update(b).digest("hex")}` as Digest;

/**
 * The images the request names, each once. A name saves that tag; an id or
 * a digest saves the image without tags, as docker save does.
 */
const choose = async (store: Store, queries: readonly string[]): Promise<E.Either<NookError, Chosen[]>> => {
  const chosen: Chosen[] = [];
  for (const q of queries) {
    const found = await findImage(store, q);
    if (E.isLeft(found)) return found;
    const ref = parseReference(q);
    const name = E.isRight(ref) && ref.right.digest === undefined ? formatReference(ref.right) : undefined;
    const tags = name !== undefined && found.right.tags.includes(name) ? [name] : [];
    const same = chosen.find((c) => c.record.id === found.right.record.id);
    if (same) same.tags.push(...tags.filter((t) => !same.tags.includes(t)));
    else chosen.push({ record: found.right.record, tags });
  }
  return E.right(chosen);
};

/** Packs one layer directory into a temp file, hashing it: its digest is the new diff id. */
const packToFile = async (
  store: Store,
  diffId: Digest,
  file: string,
): Promise<E.Either<NookError, Packed>> => {
  const stored = await store.readLayer(diffId);
  if (E.isLeft(stored))
    return E.left({
      _tag: "StoreCorrupt",
      message: `layer ${diffId} is missing from the store: ${stored.left.message}`,
    });
  const hash = createHash("sha256");
  let size = 0;
  const fh = await open(file, "wx", 0o600);
  try {
    for await (const chunk of packLayer(store.layerTree(diffId))) {
      hash.update(chunk);
      size += chunk.length;
      for (let off = 0; off < chunk.length;)
        off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
  } catch (e) {
    const err = asPackError(e);
    return E.left({ ...err, message: `layer ${diffId}: ${err.message}` });
  } finally {
    await fh.close();
  }
  return E.right({ diffId: `sha256:${hash.digest("hex")}` as Digest, file, size });
};

/** The stored config with the new diff ids (the stored bytes when nothing changed). */
const newConfig = (bytes: Buffer, diffIds: readonly Digest[]): E.Either<NookError, Buffer> => {
  let doc: { rootfs?: { diff_ids?: unknown } };
  try {
    doc = JSON.parse(bytes.toString("utf8")) as typeof doc;
  } catch (e) {
    return E.left({ _tag: "StoreCorrupt", message: `stored config is not JSON: ${(e as Error).message}` });
  }
  const old = doc.rootfs?.diff_ids;
  if (!Array.isArray(old) || old.length !== diffIds.length)
    return E.left({
      _tag: "StoreCorrupt",
      message: "stored config's rootfs.diff_ids do not match its layers",
    });
  if (old.every((d, i) => d === diffIds[i])) return E.right(bytes);
  doc.rootfs!.diff_ids = [...diffIds];
  return E.right(Buffer.from(JSON.stringify(doc)));
};

const prepare = async (
  store: Store,
  chosen: readonly Chosen[],
  work: string,
): Promise<E.Either<NookError, Prepared[]>> => {
  const packed = new Map<Digest, Packed>();
  const out: Prepared[] = [];
  for (const c of chosen) {
    const config = await store.getBlob(c.record.id);
    if (!config)
      return E.left({ _tag: "StoreCorrupt", message: `config ${c.record.id} is missing from the store` });
    const layers: Packed[] = [];
    for (const l of c.record.layers) {
      let p = packed.get(l.diffId);
      if (!p) {
        const r = await packToFile(store, l.diffId, join(work, `${packed.size}.tar`));
        if (E.isLeft(r)) return r;
        p = r.right;
        packed.set(l.diffId, p);
      }
      layers.push(p);
    }
    const cfg = newConfig(
      config,
      layers.map((l) => l.diffId),
    );
    if (E.isLeft(cfg)) return cfg;
    out.push({ chosen: c, config: cfg.right, id: sha256(cfg.right), layers });
  }
  return E.right(out);
};

// ------------------------------------------------------------------ writing

/** Writes to a Writable, waiting for room, failing with the stream's error. */
class Sink {
  private error: Error | undefined;
  constructor(private readonly out: Writable) {
    out.on("error", (e: Error) => (this.error ??= e));
  }

  async write(b: Buffer): Promise<void> {
    if (this.error) throw this.error;
    if (this.out.write(b)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.out.off("drain", done);
        this.out.off("error", failed);
        resolve();
      };
      const failed = (e: Error): void => {
        this.out.off("drain", done);
        reject(e);
      };
      this.out.once("drain", done);
      this.out.once("error", failed);
    });
  }

  private entry(path: string, type: TarEntry["type"], size: number): Buffer {
    return encodeHeader({
      path,
      type,
      size,
      mode: type === "Directory" ? 0o755 : 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
    });
  }

  async dir(path: string): Promise<void> {
    await this.write(this.entry(path, "Directory", 0));
  }

  async bytes(path: string, b: Buffer): Promise<void> {
    await this.write(this.entry(path, "File", b.length));
    await this.write(b);
    await this.write(padding(b.length));
  }

  async file(path: string, p: Packed): Promise<void> {
    await this.write(this.entry(path, "File", p.size));
    let n = 0;
    for await (const chunk of fs.createReadStream(p.file, { highWaterMark: 1 << 20 })) {
      n += (chunk as Buffer).length;
      await this.write(chunk as Buffer);
    }
    if (n !== p.size) throw new Error(`packed layer ${p.file} changed size`);
    await this.write(padding(p.size));
  }

  async end(): Promise<void> {
    await this.write(END_OF_ARCHIVE);
  }
}

const uniqueLayers = (images: readonly Prepared[]): Packed[] => [
  ...new Map(images.flatMap((i) => i.layers).map((l) => [l.diffId, l])).values(),
];

/** docker save's layout (moby image/tarexport), without the legacy v1 files. */
const writeDockerArchive = async (sink: Sink, images: readonly Prepared[]): Promise<void> => {
  for (const l of uniqueLayers(images)) await sink.file(`${digestHex(l.diffId)}.tar`, l);
  for (const i of images) await sink.bytes(`${digestHex(i.id)}.json`, i.config);
  const manifest = images.map((i) => ({
    Config: `${digestHex(i.id)}.json`,
    RepoTags:
      i.chosen.tags.length === 0
        ? null
        : i.chosen.tags.map((t) => {
            const { repository, tag } = splitTag(t);
            return `${repository}:${tag}`;
          }),
    Layers: i.layers.map((l) => `${digestHex(l.diffId)}.tar`),
  }));
  await sink.bytes("manifest.json", Buffer.from(JSON.stringify(manifest)));
  await sink.end();
};

/** An OCI layout: one index.json entry per tag (ref.name the full name, as podman writes it). */
const writeOciArchive = async (sink: Sink, images: readonly Prepared[]): Promise<void> => {
  await sink.bytes(OCI_LAYOUT_FILE, Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
  await sink.dir("blobs/");
  await sink.dir("blobs/sha256/");
  for (const l of uniqueLayers(images)) await sink.file(layoutBlobPath(l.diffId), l);
  const entries: unknown[] = [];
  for (const i of images) {
    await sink.bytes(layoutBlobPath(i.id), i.config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: i.id, size: i.config.length },
        layers: i.layers.map((l) => ({ mediaType: OCI_LAYER_TAR, digest: l.diffId, size: l.size })),
      }),
    );
    const digest = sha256(manifest);
    await sink.bytes(layoutBlobPath(digest), manifest);
    const base = { mediaType: OCI_MANIFEST, digest, size: manifest.length };
    if (i.chosen.tags.length === 0) entries.push(base);
    for (const t of i.chosen.tags) entries.push({ ...base, annotations: { [REF_NAME_ANNOTATION]: t } });
  }
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries };
  await sink.bytes(OCI_INDEX_FILE, Buffer.from(JSON.stringify(index)));
  await sink.end();
};

export interface SavedImage {
  /** The image's id in the archive (its config digest there). */
  readonly id: Digest;
  readonly storeId: Digest;
}

/** Where the archive goes: a file (written beside it, renamed at the end) or a stream (stdout). */
export type SaveTarget =
  { readonly kind: "file"; readonly path: string } | { readonly kind: "stream"; readonly out: Writable };

/** "no such file or directory" from Node's "ENOENT: no such file or directory, open '<temp name>'". */
const ioError = (what: string, e: unknown): NookError => ({
  _tag: "SaveIoError",
  message: `${what}: ${(e as Error).message.replace(/^E[A-Z]+: /, "").replace(/, \w+ '.*'$/s, "")}`,
});

const openWritable = async (path: string, flags: string): Promise<fs.WriteStream> => {
  const out = fs.createWriteStream(path, { flags, mode: 0o666 });
  await new Promise<void>((resolve, reject) => {
    out.once("open", () => resolve());
    out.once("error", reject);
  });
  return out;
};

const closeWritable = (out: fs.WriteStream): Promise<void> =>
  new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));

const writeTo = async (
  target: SaveTarget,
  write: (sink: Sink) => Promise<void>,
): Promise<E.Either<NookError, void>> => {
  if (target.kind === "stream") {
    try {
      await write(new Sink(target.out));
      return E.right(undefined);
    } catch (e) {
      return E.left(ioError("writing the archive", e));
    }
  }
  // A device or a fifo (-o /dev/stdout) is written as it is: it cannot be replaced by a rename.
  const existing = await stat(target.path).catch(() => undefined);
  if (existing !== undefined && !existing.isFile()) {
    try {
      const out = await openWritable(target.path, "w");
      await write(new Sink(out));
      await closeWritable(out);
      return E.right(undefined);
    } catch (e) {
      return E.left(ioError(`writing ${target.path}`, e));
    }
  }
  // A file appears complete or not at all.
  const tmp = join(dirname(target.path), `.${basename(target.path)}.nook-${process.pid}`);
  try {
    const out = await openWritable(tmp, "wx");
    await write(new Sink(out));
    await closeWritable(out);
    await rename(tmp, target.path);
    return E.right(undefined);
  } catch (e) {
    await rm(tmp, { force: true });
    return E.left(ioError(`writing ${target.path}`, e));
  }
};

export const saveImages = async (
  store: Store,
  req: SaveRequest,
  target: SaveTarget,
): Promise<E.Either<NookError, SavedImage[]>> => {
  const chosen = await choose(store, req.images);
  if (E.isLeft(chosen)) return chosen;
  store.init();
  store.clearStaleTemp();
  const work = await store.tempDir("save");
  try {
    const prepared = await prepare(store, chosen.right, work);
    if (E.isLeft(prepared)) return prepared;
    const write = req.format === "oci-archive" ? writeOciArchive : writeDockerArchive;
    const written = await writeTo(target, (sink) => write(sink, prepared.right));
    if (E.isLeft(written)) return written;
    return E.right(prepared.right.map((p) => ({ id: p.id, storeId: p.chosen.record.id })));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
};
