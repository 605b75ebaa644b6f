// The content-addressed store (DESIGN.md section 5):
//
//   ROOT/blobs/sha256/<hex>       manifests, indexes and configs, by digest
//   ROOT/layers/<diff-id hex>/    one unpacked layer: diff/ (the tree) and layer.json
//   ROOT/images/<config hex>.json an image record (ImageRecord)
//   ROOT/tags/<escaped name>      a tag: the file holds the image id
//   ROOT/tmp/                     work in progress, named <kind>-<pid>-<random>
//
// Nothing is ever visible under its final name before it is complete: every
// object is written under tmp/ (or a temp name beside it) and renamed into
// place, so a crash leaves only temp files, which the next run clears (their
// pid is dead). Two processes storing the same object both succeed: the
// second rename finds the first one's copy and drops its own. Tags are one file
// each, replaced by rename, so concurrent pulls of different images never
// read-modify-write a shared index.
import { crypto } from "../lib/lazy-crypto.js";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { digestHex, type Digest } from "../image/digest.js";
import { decodeJson } from "../lib/decode.js";
import { isRunning } from "../sys/proc.js";
import { ImageRecord, LayerRecord } from "./records.js";

export type StoreError = { readonly _tag: "StoreCorrupt" | "StoreIo"; readonly message: string };

const ioError = (what: string, e: unknown): StoreError => ({
  _tag: "StoreIo",
  message: `${what}: ${(e as Error).message}`,
});

export class Store {
  constructor(readonly root: string) {}

  private path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  blobPath(d: Digest): string {
    return this.path("blobs", "sha256", digestHex(d));
  }
  layerDir(diffId: Digest): string {
    return this.path("layers", digestHex(diffId));
  }
  layerTree(diffId: Digest): string {
    return join(this.layerDir(diffId), "diff");
  }

  /** Creates the directories (mode 0700: the store may hold private images). */
  init(): void {
    for (const d of ["blobs/sha256", "layers", "images", "tags", "tmp"])
      mkdirSync(this.path(d), { recursive: true, mode: 0o700 });
  }

  /** A fresh directory under tmp/ for one piece of work by this process. */
  async tempDir(kind: string): Promise<string> {
    const dir = this.path("tmp", `${kind}-${process.pid}-${crypto().randomBytes(6).toString("hex")}`);
    await mkdir(dir, { mode: 0o700 });
    return dir;
  }

  /**
   * Removes what dead processes left under tmp/. Files owned by subordinate
   * ids can only be removed inside the user namespace: callers that run
   * outside it get the entries they could not remove back, to do it there.
   */
  clearStaleTemp(): string[] {
    const left: string[] = [];
    let entries: string[] = [];
    try {
      entries = readdirSync(this.path("tmp"));
    } catch {
      return left;
    }
    for (const name of entries) {
      const pid = Number(name.split("-")[1]);
      if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) continue;
      try {
        rmSync(this.path("tmp", name), { recursive: true, force: true });
      } catch {
        left.push(this.path("tmp", name));
      }
    }
    return left;
  }

  /**
   * Containers run with --rm whose nook is gone (killed before its helper
   * could remove them): their directories, named in containers/ID/remove-with
   * by the pid of the nook that ran them.
   */
  abandonedContainers(): string[] {
    const dir = this.path("containers");
    let ids: string[] = [];
    try {
      ids = readdirSync(dir);
    } catch {
      return [];
    }
    return ids
      .filter((id) => {
        try {
          return !isRunning(Number(readFileSync(join(dir, id, "remove-with"), "utf8")));
        } catch {
          return false;
        }
      })
      .map((id) => join(dir, id));
  }

  /** Writes bytes under a temp name in the same directory, then renames. */
  async writeAtomic(file: string, data: string | Buffer): Promise<void> {
    const tmp = `${file}.tmp-${process.pid}-${crypto().randomBytes(4).toString("hex")}`;
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, file);
  }

  async hasBlob(d: Digest): Promise<boolean> {
    return exists(this.blobPath(d));
  }

  /** Stores a small blob after checking that its bytes have the digest. */
  async putBlob(d: Digest, bytes: Buffer): Promise<E.Either<StoreError, void>> {
    const actual = `sha256:${crypto().createHash("sha256").update(bytes).digest("hex")}`;
    if (actual !== d)
      return E.left({ _tag: "StoreCorrupt", message: `blob ${d}: its bytes hash to ${actual}` });
    try {
      await this.writeAtomic(this.blobPath(d), bytes);
      return E.right(undefined);
    } catch (e) {
      return E.left(ioError(`store blob ${d}`, e));
    }
  }

  async getBlob(d: Digest): Promise<Buffer | undefined> {
    try {
      return await readFile(this.blobPath(d));
    } catch {
      return undefined;
    }
  }

  async removeBlob(d: Digest): Promise<void> {
    await rm(this.blobPath(d), { force: true });
  }

  async hasLayer(diffId: Digest): Promise<boolean> {
    return exists(join(this.layerDir(diffId), "layer.json"));
  }

  async readLayer(diffId: Digest): Promise<E.Either<StoreError, LayerRecord>> {
    const file = join(this.layerDir(diffId), "layer.json");
    return this.readRecord(file, LayerRecord, `layer ${diffId}`);
  }

  /**
   * Moves a finished layer (a temp dir holding diff/ and layer.json) into
   * place. Right(false) when another process stored the same layer first: the
   * caller then removes its own copy.
   */
  async commitLayer(tempDir: string, record: LayerRecord): Promise<E.Either<StoreError, boolean>> {
    try {
      await writeFile(join(tempDir, "layer.json"), JSON.stringify(record));
      await rename(tempDir, this.layerDir(record.diffId));
      return E.right(true);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === "ENOTEMPTY" || code === "EEXIST") && (await this.hasLayer(record.diffId)))
        return E.right(false);
      return E.left(ioError(`store layer ${record.diffId}`, e));
    }
  }

  async removeLayer(diffId: Digest): Promise<void> {
    // Rename first, so a half-removed layer is never seen under its name.
    const doomed = this.path("tmp", `rm-${process.pid}-${crypto().randomBytes(6).toString("hex")}`);
    await rename(this.layerDir(diffId), doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  /**
   * Marks layers as in use by this process, from before it looks for them
   * until its image record lists them (a pull or a load): removal of unused
   * layers (rmi, prune) leaves them alone meanwhile. The mark is a file under
   * tmp/ named by pid, so a killed process's marks go with its other temp
   * files. Returns the release.
   */
  async holdLayers(diffIds: readonly Digest[]): Promise<() => Promise<void>> {
    const file = this.path("tmp", `hold-${process.pid}-${crypto().randomBytes(6).toString("hex")}`);
    await writeFile(file, JSON.stringify(diffIds), { mode: 0o600 });
    return () => rm(file, { force: true });
  }

  /** The layers live processes hold (holdLayers). */
  heldLayers(): Set<string> {
    const held = new Set<string>();
    let names: string[] = [];
    try {
      names = readdirSync(this.path("tmp")).filter((n) => n.startsWith("hold-"));
    } catch {
      return held;
    }
    for (const n of names) {
      if (!isRunning(Number(n.split("-")[1]))) continue;
      try {
        for (const d of JSON.parse(readFileSync(this.path("tmp", n), "utf8")) as unknown[])
          if (typeof d === "string") held.add(d);
      } catch {
        // released while we read it
      }
    }
    return held;
  }

  async listLayers(): Promise<Digest[]> {
    const names = await readdir(this.path("layers")).catch(() => [] as string[]);
    return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}` as Digest);
  }

  private imageFile(id: Digest): string {
    return this.path("images", `${digestHex(id)}.json`);
  }

  async putImage(record: ImageRecord): Promise<void> {
    await this.writeAtomic(this.imageFile(record.id), JSON.stringify(record, null, 1));
  }

  async getImage(id: Digest): Promise<E.Either<StoreError, ImageRecord>> {
    return this.readRecord(this.imageFile(id), ImageRecord, `image ${id}`);
  }

  async listImages(): Promise<E.Either<StoreError, ImageRecord[]>> {
    const names = await readdir(this.path("images")).catch(() => [] as string[]);
    const out: ImageRecord[] = [];
    for (const n of names.filter((n) => /^[0-9a-f]{64}\.json$/.test(n))) {
      const r = await this.getImage(`sha256:${n.slice(0, 64)}` as Digest);
      if (E.isLeft(r)) return r;
      out.push(r.right);
    }
    return E.right(out);
  }

  async removeImage(id: Digest): Promise<void> {
    await rm(this.imageFile(id), { force: true });
  }

  private tagFile(name: string): string {
    return this.path("tags", encodeURIComponent(name));
  }

  /** Points the tag `name` (a full reference: docker.io/library/busybox:latest) at an image. */
  async setTag(name: string, id: Digest): Promise<void> {
    await this.writeAtomic(this.tagFile(name), id);
  }

  /** The image a tag names, or undefined. */
  async getTag(name: string): Promise<Digest | undefined> {
    const id = (await readFile(this.tagFile(name), "utf8").catch(() => "")).trim();
    return /^sha256:[0-9a-f]{64}$/.test(id) ? (id as Digest) : undefined;
  }

  async removeTag(name: string): Promise<boolean> {
    try {
      await rm(this.tagFile(name));
      return true;
    } catch {
      return false;
    }
  }

  /** Every tag and the image it names. */
  async listTags(): Promise<{ name: string; id: Digest }[]> {
    const names = await readdir(this.path("tags")).catch(() => [] as string[]);
    const out: { name: string; id: Digest }[] = [];
    for (const f of names) {
      if (f.includes(".tmp-")) continue;
      const id = (await readFile(this.path("tags", f), "utf8").catch(() => "")).trim();
      if (/^sha256:[0-9a-f]{64}$/.test(id)) out.push({ name: decodeURIComponent(f), id: id as Digest });
    }
    return out;
  }

  async readRecord<A>(
    file: string,
    codec: Parameters<typeof decodeJson<A, unknown>>[0],
    what: string,
  ): Promise<E.Either<StoreError, A>> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      return E.left(ioError(`read ${what}`, e));
    }
    return E.mapLeft((d: { message: string }): StoreError => ({ _tag: "StoreCorrupt", message: d.message }))(
      decodeJson(codec, `${what} (${file})`)(text),
    );
  }
}

const exists = async (p: string): Promise<boolean> => {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
};
