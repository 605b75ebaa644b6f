// The packer: a stored layer directory (rootfs/unpack.ts wrote it) back into
// an uncompressed OCI layer tar, for nook save.
//
// The tar cannot be the layer's original bytes: the store keeps the tree, not
// the archive (entry order, header formats, user and group names, entries the
// unpacker skipped, directories the tar never listed are all gone). So the
// packer writes the tree deterministically instead: entries sorted by name,
// parents before children, whole-second mtimes, no atime/ctime, no user or
// group names. The same tree always gives the same bytes, so the same diff id.
//
// What the unpacker stored in its own forms goes back to OCI's forms
// (image-spec layer.md, "Whiteouts"):
//   - a 0/0 character device is a whiteout: ".wh.NAME", an empty file;
//   - a directory marked opaque (user.overlay.opaque or trusted.overlay.opaque
//     "y") gets a ".wh..wh..opq" entry right after it;
//   - ".wh." files kept as files (whiteouts "keep") are written as they are;
//   - user.containers.override_stat "UID:GID:MODE" (a layer unpacked without
//     a subuid range) gives the entry's owner and mode instead of the file's;
//   - files with several links are written once, then as hard links to the
//     first name (in the walk's order);
//   - user.* extended attributes (not the overlay/containers metadata the
//     unpacker writes) and security.capability become SCHILY.xattr records.
// It runs as root of the user's namespace, so the owners it reads are the
// image's, and it can read files the image made unreadable.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { lgetxattr, llistxattr } from "../sys/libc.js";
import { encodeHeader, END_OF_ARCHIVE, padding, type TarEntry, type TarXattr } from "./tar-header.js";

export type PackError = { readonly _tag: "PackIoError"; readonly message: string };

/** Thrown inside this module, turned into a Left by the caller through asPackError. */
export class PackFailure extends Error {
  constructor(readonly error: PackError) {
    super(error.message);
  }
}

const failure = (message: string): PackFailure => new PackFailure({ _tag: "PackIoError", message });

export const asPackError = (e: unknown): PackError =>
  e instanceof PackFailure
    ? e.error
    : { _tag: "PackIoError", message: `packing layer: ${e instanceof Error ? e.message : String(e)}` };

const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";
const OVERRIDE_STAT = "user.containers.override_stat";
const CHUNK = 1 << 20;

/** The unpacker's own metadata and what the kernel or fuse-overlayfs keep for themselves. */
const keepsXattr = (name: string): boolean =>
  (name.startsWith("user.") && !/^user\.(overlay|containers|fuseoverlayfs)\./.test(name)) ||
  name === "security.capability";

const xattrValue = async (abs: string, name: string): Promise<Buffer | undefined> => {
  const r = await lgetxattr(abs, name);
  return E.isRight(r) ? r.right : undefined;
};

const xattrsOf = async (abs: string): Promise<TarXattr[]> => {
  const names = await llistxattr(abs);
  if (E.isLeft(names)) return [];
  const out: TarXattr[] = [];
  for (const name of names.right.filter(keepsXattr).sort()) {
    const value = await xattrValue(abs, name);
    if (value !== undefined) out.push({ name, value });
  }
  return out;
};

const isOpaque = async (abs: string): Promise<boolean> =>
  (await xattrValue(abs, "user.overlay.opaque"))?.toString() === "y" ||
  (await xattrValue(abs, "trusted.overlay.opaque"))?.toString() === "y";

interface Owner {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/** The owner and mode the image gave the entry: override_stat when the unpacker recorded one. */
const ownerOf = async (abs: string, st: fs.Stats): Promise<Owner> => {
  const own = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
  if (!st.isFile() && !st.isDirectory()) return own;
  const v = (await xattrValue(abs, OVERRIDE_STAT))?.toString();
  const m = v === undefined ? null : /^(\d+):(\d+):([0-7]{1,6})$/.exec(v);
  if (!m) return own;
  return { uid: Number(m[1]), gid: Number(m[2]), mode: parseInt(m[3]!, 8) & 0o7777 };
};

const seconds = (st: fs.Stats): number => Math.floor(st.mtimeMs / 1000);

async function* fileData(abs: string, name: string, size: number): AsyncGenerator<Buffer> {
  const fh = await fsp.open(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    let done = 0;
    while (done < size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
      const { bytesRead } = await fh.read(buf, 0, buf.length, done);
      if (bytesRead === 0) break;
      done += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
    if (done !== size) throw failure(`layer file ${name} changed while it was packed`);
  } finally {
    await fh.close();
  }
}

class Packer {
  /** "dev:ino" of files with several links -> the name written first. */
  private readonly links = new Map<string, string>();

  constructor(private readonly root: string) {}

  /**
   * A directory's entries by name, whiteouts first: image-spec layer.md asks
   * that whiteouts come before their siblings.
   */
  async *walk(rel: string): AsyncGenerator<Buffer> {
    const dir = rel === "" ? this.root : path.join(this.root, rel);
    const children = (await fsp.readdir(dir)).map((name) => {
      const abs = path.join(dir, name);
      const st = fs.lstatSync(abs);
      const whiteout = name.startsWith(WH) || (st.isCharacterDevice() && st.rdev === 0);
      return { rel: rel === "" ? name : `${rel}/${name}`, name, abs, st, whiteout };
    });
    children.sort((a, b) =>
      a.whiteout !== b.whiteout ? (a.whiteout ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const c of children) yield* this.entry(c.rel, c.abs, c.st);
  }

  private async *entry(rel: string, abs: string, st: fs.Stats): AsyncGenerator<Buffer> {
    const mtime = seconds(st);
    if (st.isCharacterDevice() && st.rdev === 0) {
      // The overlay whiteout the unpacker made for ".wh.NAME".
      const base = path.posix.basename(rel);
      const dirName = path.posix.dirname(rel);
      const wh = dirName === "." ? `${WH}${base}` : `${dirName}/${WH}${base}`;
      yield encodeHeader({ ...this.plain(st), path: wh, type: "File", size: 0, mtime });
      return;
    }
    const owner = await ownerOf(abs, st);
    const base = { path: rel, ...owner, size: 0, mtime };
    if (st.isDirectory()) {
      yield encodeHeader({ ...base, path: `${rel}/`, type: "Directory", xattrs: await xattrsOf(abs) });
      if (await isOpaque(abs))
        yield encodeHeader({ ...base, path: `${rel}/${OPAQUE}`, type: "File", mode: 0o644 });
      yield* this.walk(rel);
      return;
    }
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) {
        yield encodeHeader({ ...base, type: "Link", linkpath: first });
        return;
      }
      this.links.set(key, rel);
    }
    if (st.isSymbolicLink()) {
      yield encodeHeader({ ...base, type: "SymbolicLink", linkpath: await fsp.readlink(abs) });
    } else if (st.isFile()) {
      yield encodeHeader({ ...base, type: "File", size: st.size, xattrs: await xattrsOf(abs) });
      yield* fileData(abs, rel, st.size);
      yield padding(st.size);
    } else if (st.isFIFO()) {
      yield encodeHeader({ ...base, type: "FIFO" });
    } else if (st.isCharacterDevice()) {
      yield encodeHeader({
        ...base,
        type: "CharacterDevice",
        devmajor: Math.floor(st.rdev / 256) & 0xfff,
        devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
      });
    } else {
      // Sockets (and block devices, which the unpacker never makes) have no place in a layer.
      return;
    }
  }

  private plain(st: fs.Stats): Omit<TarEntry, "path" | "type" | "size" | "mtime"> {
    return { uid: st.uid, gid: st.gid, mode: st.mode & 0o777 };
  }
}

/**
 * The layer tree under `dir` as an uncompressed tar, in blocks. Throws
 * PackFailure (or an fs error) when the tree cannot be read.
 */
export async function* packLayer(dir: string): AsyncGenerator<Buffer> {
  const st = await fsp.lstat(dir).catch((e: Error) => {
    throw failure(`layer directory ${dir}: ${e.message}`);
  });
  if (!st.isDirectory()) throw failure(`layer directory ${dir} is not a directory`);
  yield* new Packer(dir).walk("");
  yield END_OF_ARCHIVE;
}

export type { TarEntry };
