// The layer unpacker: one tar stream (plain or gzip) into one directory of
// its own (DESIGN.md section 5), hashed as it flows for the diff id.
//
// node-tar reads the format (headers, PAX records, GNU long names); the
// writing is ours. node-tar's Unpack is built for npm packages, not root
// filesystems, and several of its rules are wrong for a layer:
//   - it strips the leading "/" from symlink targets ("/usr/bin/mawk" becomes
//     "usr/bin/mawk", which resolves elsewhere) and drops symlinks whose target
//     climbs out with "..", though both are normal in images and harmless: we
//     never follow a link while writing, and in the container they resolve
//     inside the rootfs;
//   - it refuses a symlink whose target passes through another symlink
//     (merged /usr: "sh -> bin/dash" where "bin -> usr/bin");
//   - it ORs 0700 into every directory mode (0555 becomes 0755), skips
//     fifos, and restores no xattrs;
//   - its writes run concurrently behind path reservations, so a check made
//     in its `filter` can run before an earlier entry's symlink exists.
// So every entry here goes through one sequential loop: an entry is written
// completely (data, owner, xattrs, mode, times) before the next one is read.
//
// Why no entry can write outside `dest`: names are checked as strings (no
// absolute names, no ".." component); every directory on the way is lstat'ed
// and must be a real directory (a symlink there refuses the layer); the last
// component is removed if present and created afresh, files with
// O_CREAT|O_EXCL|O_NOFOLLOW, so nothing is ever opened through a symlink.
// Those checks are not racy because this loop is the only writer of `dest`
// while the layer unpacks (the store gives each unpack a fresh temp dir).
// Directory modes, owners and times are applied at the end, deepest first
// (the order GNU tar uses: a 0555 directory must stay writable while its
// children arrive, and adding children changes its mtime); each directory is
// re-opened with O_NOFOLLOW and its inode compared first, since a later entry
// may have replaced it.
//
// Decisions on hostile input (test/unit/rootfs/hostile-layers.test.ts) are
// marked "Refused:" (the whole layer fails, UnsafeLayerEntry) or
// "Neutralised:" (the entry is skipped and listed, the layer goes on). A layer
// that names a path outside itself was crafted or is broken; either way we
// want no part of it, so path escapes refuse. What cannot escape but cannot
// be made rootless (device nodes) is skipped.
//
// Ownership and mode, in this order (chown(2) clears setuid/setgid and
// security.capability; writing data clears security.capability; a non-root
// caller cannot set xattrs once the mode drops its write bit):
//   data, chown, xattrs, user.containers.override_stat, chmod, utimes.
import { createHash, type Hash } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import * as E from "fp-ts/lib/Either.js";
import * as tar from "tar";
import { errnoName } from "../lib/errors.js";
import { lsetxattr, mknod, S_IFCHR, S_IFIFO, type SysError } from "../sys/libc.js";

export interface UnpackOptions {
  /** How OCI whiteouts (.wh.NAME, .wh..wh..opq) are stored in the layer directory:
   *  "overlay": NAME becomes a 0/0 character device (what kernel overlayfs and fuse-overlayfs both read as a whiteout),
   *             an opaque directory gets the xattr user.overlay.opaque=y (kernel overlay mounted with userxattr, as inside a user namespace)
   *             and also trusted.overlay.opaque=y when permitted (EPERM for trusted.* is ignored);
   *  "keep":    the .wh. files are kept as plain empty files (fuse-overlayfs understands these too; for hosts where mknod fails). */
  readonly whiteouts: "overlay" | "keep";
  /** chown entries to the tar's uid/gid (true inside a user namespace with a full subuid map).
   *  false for single-id maps: everything belongs to the caller; the original uid:gid:mode is then
   *  recorded in the xattr user.containers.override_stat as "UID:GID:MODE" (octal, 4 digits) on every file and
   *  directory whose owner or mode could not be kept, which fuse-overlayfs honours. */
  readonly preserveOwner: boolean;
  /** Refuse entries bigger than this (bytes), and a layer whose total unpacked size exceeds maxTotalBytes. */
  readonly maxEntryBytes?: number;
  readonly maxTotalBytes?: number;
}

export interface UnpackResult {
  /** Entries read from the tar (PAX and long-name headers not counted), skipped ones included. */
  readonly entries: number;
  /** Bytes of regular file data written. */
  readonly bytes: number;
  readonly skipped: readonly { path: string; reason: string }[];
  /** "sha256:<hex>" of the uncompressed tar stream. */
  readonly diffId: string;
}

export type UnpackError = {
  readonly _tag: "UnsafeLayerEntry" | "LayerTooBig" | "CorruptLayer" | "UnpackIoError";
  readonly message: string;
};

/**
 * Reads a tar stream (uncompressed or gzip; zstd is refused: Node 20 has no
 * decompressor for it) into `dest`, an existing empty directory. On Left,
 * `dest` holds whatever was written before the failure, with owners and
 * modes not yet applied; the caller removes it.
 */
export const unpackLayer = async (
  input: NodeJS.ReadableStream | Readable,
  dest: string,
  opts: UnpackOptions,
): Promise<E.Either<UnpackError, UnpackResult>> => {
  try {
    const root = await checkDest(dest);
    return E.right(await new LayerWriter(root, opts).run(input));
  } catch (e) {
    destroy(input);
    return E.left(asUnpackError(e));
  }
};

// ---------------------------------------------------------------- errors

/** Thrown inside this module, turned into a Left at the top. */
class Refusal extends Error {
  constructor(readonly error: UnpackError) {
    super(error.message);
  }
}

const unsafe = (message: string) => new Refusal({ _tag: "UnsafeLayerEntry", message });
const corrupt = (message: string) => new Refusal({ _tag: "CorruptLayer", message });
const tooBig = (message: string) => new Refusal({ _tag: "LayerTooBig", message });
const ioError = (message: string) => new Refusal({ _tag: "UnpackIoError", message });

/** "ENOSPC: no space left on device" from a Node fs error, without the path it appends. */
const describe = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === "string" && typeof err.message === "string")
    return err.message.startsWith(`${err.code}: `) ? err.message.replace(/, \w+ '.*$/s, "") : err.message;
  return String(e);
};

const sysMessage = (e: SysError): string => errnoName(e.errno);

const isZlibError = (e: unknown): boolean =>
  typeof (e as { code?: unknown })?.code === "string" && (e as { code: string }).code.startsWith("Z_");

const asUnpackError = (e: unknown): UnpackError => {
  if (e instanceof Refusal) return e.error;
  if (isZlibError(e)) return { _tag: "CorruptLayer", message: `layer is not valid gzip: ${describe(e)}` };
  return { _tag: "UnpackIoError", message: `unpacking layer: ${e instanceof Error ? e.message : String(e)}` };
};

/** A tar name for messages: quoted, control characters escaped, long ones cut. */
const show = (name: string): string => {
  const s = JSON.stringify(name);
  return s.length > 160 ? `${s.slice(0, 150)}..."` : s;
};

const destroy = (input: NodeJS.ReadableStream | Readable): void => {
  const d = (input as { destroy?: () => void }).destroy;
  if (typeof d === "function") d.call(input);
};

// ---------------------------------------------------------------- names

/** A tar name as path components under the layer root; [] is the root itself. */
type Parts = readonly string[];

/**
 * Refused: absolute names and any ".." component, for entry names and
 * hardlink targets alike. containerd re-roots absolute names instead; no
 * image builder writes them, so a tar that has them was made by hand.
 */
const parseName = (name: string, what: string): Parts => {
  if (name.startsWith("/")) throw unsafe(`${what} ${show(name)} is absolute`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw unsafe(`${what} ${show(name)} leaves the layer ('..')`);
  return parts;
};

const relOf = (parts: Parts): string => parts.join("/");

/** Prefix of whiteout names (OCI image spec, layer.md "Whiteouts"). */
const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";

type Whiteout =
  | { readonly kind: "opaque"; readonly dir: Parts }
  | { readonly kind: "whiteout"; readonly target: Parts }
  | { readonly kind: "other"; readonly reason: string };

const whiteoutOf = (parts: Parts, name: string): Whiteout | undefined => {
  const base = parts[parts.length - 1];
  // aufs keeps its own files under ".wh..wh.plnk" and the like (Docker's aufs driver).
  if (parts.some((p, i) => p.startsWith(WH + WH) && !(p === OPAQUE && i === parts.length - 1)))
    return { kind: "other", reason: "aufs metadata (.wh..wh.*) is not part of a layer's contents" };
  if (base === undefined || !base.startsWith(WH)) return undefined;
  if (base === OPAQUE) return { kind: "opaque", dir: parts.slice(0, -1) };
  const target = base.slice(WH.length);
  // Refused: ".wh.." and ".wh..." would hide the directory holding the entry,
  // or its parent: a whiteout may only name something inside its directory.
  if (target === "." || target === "..") throw unsafe(`whiteout ${show(name)} names ${show(target)}`);
  // Neutralised: ".wh." names nothing.
  if (target === "") return { kind: "other", reason: "whiteout names no file" };
  return { kind: "whiteout", target: [...parts.slice(0, -1), target] };
};

// ---------------------------------------------------------------- PAX xattrs

/**
 * node-tar hands PAX headers over only as text (the 'meta' event) and keeps
 * none of the SCHILY.xattr.* records GNU tar and Go's archive/tar write, so we
 * read them from that text. Records are "LEN KEY=VALUE\n" with LEN in bytes.
 * Returns undefined for text that is not a PAX header (a GNU long name).
 */
const paxRecords = (text: string): Map<string, Buffer> | undefined => {
  const buf = Buffer.from(text, "utf8");
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < buf.length) {
    const space = buf.indexOf(0x20, pos);
    const digits = space > pos && space - pos < 10 ? buf.toString("latin1", pos, space) : "";
    const len = /^[0-9]+$/.test(digits) ? Number(digits) : NaN;
    const end = pos + len;
    if (!Number.isInteger(len) || end > buf.length || end <= space || buf[end - 1] !== 0x0a) return undefined;
    const eq = buf.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= end) return undefined;
    records.set(buf.toString("utf8", space + 1, eq), buf.subarray(eq + 1, end - 1));
    pos = end;
  }
  return records;
};

const XATTR_RECORD = "SCHILY.xattr.";

interface Xattr {
  readonly name: string;
  readonly value: Buffer;
}

/** The xattrs of the next entry, from the PAX headers read just before it. */
const xattrsOf = (metas: readonly string[]): { xattrs: Xattr[]; unreadable: boolean } => {
  const found = new Map<string, Buffer>();
  let unreadable = false;
  for (const text of metas) {
    if (!text.includes(XATTR_RECORD)) continue;
    // node-tar decodes the header as UTF-8 before we see it: a value that is
    // not UTF-8 is already lost, and its record length no longer adds up.
    const records = text.includes("\uFFFD") ? undefined : paxRecords(text);
    if (!records) {
      unreadable = true;
      continue;
    }
    for (const [k, v] of records) if (k.startsWith(XATTR_RECORD)) found.set(k.slice(XATTR_RECORD.length), v);
  }
  return { xattrs: [...found].map(([name, value]) => ({ name, value })), unreadable };
};

/**
 * Which xattrs a layer may set. Neutralised (skipped and listed): anything but
 * user.* and security.capability, and the user.* names that overlayfs and
 * fuse-overlayfs read as their own metadata (user.overlay.opaque/redirect,
 * user.containers.override_stat...): a layer could otherwise forge an owner
 * or a redirect that only the unpacker may write.
 */
const xattrSkipped = (name: string): string | undefined => {
  if (/^user\.(overlay|containers|fuseoverlayfs)\./.test(name))
    return "overlay and fuse-overlayfs metadata is never taken from a layer";
  if (name.startsWith("user.") || name === "security.capability") return undefined;
  return "only user.* extended attributes (and security.capability when permitted) are restored";
};

const OVERRIDE_STAT = "user.containers.override_stat";

const overrideValue = (uid: number, gid: number, mode: number): Buffer =>
  Buffer.from(`${uid}:${gid}:${mode.toString(8).padStart(4, "0")}`);

// ---------------------------------------------------------------- the stream

const BLOCK = 512;
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const MAX_META_BYTES = 1024 * 1024;

const toBuffer = (c: unknown): Buffer => (Buffer.isBuffer(c) ? c : Buffer.from(c as string));

const startsWith = (b: Buffer, magic: Buffer): boolean =>
  b.length >= magic.length && b.subarray(0, magic.length).equals(magic);

/** The tar bytes of `input`: gunzipped when it starts with the gzip magic. */
async function* tarBytes(input: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < ZSTD_MAGIC.length && !done) {
    const r = await it.next();
    if (r.done) done = true;
    else head = Buffer.concat([head, toBuffer(r.value)]);
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    while (!done) {
      const r = await it.next();
      if (r.done) return;
      yield toBuffer(r.value);
    }
  }
  if (startsWith(head, ZSTD_MAGIC))
    throw corrupt("layer is zstd-compressed, which this nook cannot read (Node 20 has no zstd decompressor)");
  if (!startsWith(head, GZIP_MAGIC)) return yield* all();
  // 1 MiB output chunks: each chunk is a round trip to libuv's thread pool,
  // and at 64 KiB those cost more than the inflating (169 ms against 110 ms
  // for a 25 MiB layer, measured).
  const gunzip = createGunzip({ chunkSize: 1024 * 1024 });
  // Errors reach us through the iteration of gunzip, which pipeline destroys with them.
  pipeline(Readable.from(all()), gunzip).catch(() => undefined);
  for await (const chunk of gunzip) yield chunk as Buffer;
}

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

const deferred = (): Deferred => {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

// ---------------------------------------------------------------- the writer

/** What a directory gets at the end, and the inode it must still be. */
interface DirMeta {
  readonly parts: Parts;
  readonly ino: number;
  readonly dev: number;
  readonly meta: Meta | undefined;
}

interface Meta {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly atime: Date | undefined;
  readonly mtime: Date | undefined;
  readonly xattrs: readonly Xattr[];
}

type Kind = "file" | "dir" | "symlink" | "fifo";

const lstatOrUndefined = (p: string): fs.Stats | undefined => fs.lstatSync(p, { throwIfNoEntry: false });

const checkDest = async (dest: string): Promise<string> => {
  try {
    const st = await fsp.lstat(dest);
    if (!st.isDirectory()) throw ioError(`unpacking layer: ${dest} is not a directory`);
    if ((await fsp.readdir(dest)).length > 0) throw ioError(`unpacking layer: ${dest} is not empty`);
    return await fsp.realpath(dest);
  } catch (e) {
    if (e instanceof Refusal) throw e;
    throw ioError(`unpacking layer into ${dest}: ${describe(e)}`);
  }
};

const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);
const MAX_ID = 0xfffffffe; // (uid_t)-1 means "leave unchanged" to chown(2)

const validDate = (d: Date | undefined): Date | undefined =>
  d !== undefined && Number.isFinite(d.getTime()) ? d : undefined;

class LayerWriter {
  private entries = 0;
  private bytes = 0;
  private readonly skipped: { path: string; reason: string }[] = [];
  /** Relative paths known to be real directories made or checked by us; cleared on removal. */
  private readonly knownDirs = new Set<string>();
  private readonly dirs = new Map<string, DirMeta>();
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gid = process.getgid?.() ?? 0;

  constructor(
    private readonly root: string,
    private readonly opts: UnpackOptions,
  ) {}

  /** The first failure of the layer; once set, nothing more is written. */
  private failure: { readonly error: unknown } | undefined;
  private readonly stopped = deferred();
  /** node-tar's "Unrecognized archive format", decided on at the end (see run). */
  private unrecognized = false;
  /** Every entry's work, in order; and the entry being written, if any. */
  private chain: Promise<void> = Promise.resolve();
  private current: tar.ReadEntry | undefined;

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.stopped.resolve();
  }

  async run(input: NodeJS.ReadableStream | Readable): Promise<UnpackResult> {
    const parser = new tar.Parser({ strict: false, zstd: false, maxMetaEntrySize: MAX_META_BYTES });
    const done = this.listen(parser);
    const hash = createHash("sha256");
    const { allZero } = await this.feed(input, parser, hash);
    if (!this.failure) await Promise.race([done, this.stopped.promise]);
    if (this.failure) {
      // Nothing more comes from the parser: cut the entry being written
      // short, and let its work settle, so no write lands after we return.
      this.current?.end();
      await this.chain;
      throw this.failure.error;
    }
    // node-tar says "Unrecognized archive format" of a tar with no entries,
    // which is a valid, empty layer when it is only zero blocks (or nothing).
    if (this.unrecognized && !allZero) throw corrupt("layer is not a tar archive");
    await this.finishDirs();
    return {
      entries: this.entries,
      bytes: this.bytes,
      skipped: this.skipped,
      diffId: `sha256:${hash.digest("hex")}`,
    };
  }

  /**
   * Hooks the parser's events up; resolves once the last entry is written.
   * node-tar emits an entry only after the one before it has ended, and every
   * entry goes through one promise chain, so entries are handled strictly in
   * order, one at a time. PAX and long-name headers arrive as 'meta' text
   * before the entry they describe.
   */
  private listen(parser: tar.Parser): Promise<void> {
    parser.on("warn", (code: string, message: string) => {
      if (code === "TAR_BAD_ARCHIVE" && message === "Unrecognized archive format") this.unrecognized = true;
      else this.fail(corrupt(`layer is not a valid tar: ${message}`));
    });
    parser.on("error", (e: Error) => this.fail(corrupt(`layer is not a valid tar: ${e.message}`)));
    let metas: string[] = [];
    parser.on("meta", (text: string) => metas.push(text));
    parser.on("ignoredEntry", (entry: tar.ReadEntry) => {
      metas = [];
      // A PAX header over maxMetaEntrySize is dropped by node-tar, and the
      // entry it names would take the name in its ustar header instead.
      if (entry.meta)
        this.fail(corrupt(`layer has a ${entry.size}-byte ${entry.type} header (limit ${MAX_META_BYTES})`));
      else {
        this.entries++;
        this.skip(entry.path, `unsupported entry type ${entry.type}`);
      }
    });
    parser.on("entry", (entry: tar.ReadEntry) => {
      const mine = metas;
      metas = [];
      this.chain = this.chain
        .then(() => (this.failure ? undefined : this.entry(entry, mine)))
        .catch((e) => this.fail(e));
    });
    return new Promise<void>((resolve) => parser.once("end", resolve)).then(() => this.chain);
  }

  /**
   * Hashes the tar bytes and writes them to the parser, in whole 512-byte
   * blocks: node-tar decodes a PAX header as text write by write, so a header
   * split across two writes could have a character cut in half, and
   * block-aligned writes keep every one-block header whole. Stops at the first
   * failure, without waiting for more input.
   */
  private async feed(
    input: NodeJS.ReadableStream | Readable,
    parser: tar.Parser,
    hash: Hash,
  ): Promise<{ allZero: boolean }> {
    const it = tarBytes(input as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const stop = this.stopped.promise.then(() => undefined);
    let carry: Buffer = Buffer.alloc(0);
    let allZero = true;
    let first = true;
    try {
      for (;;) {
        const next = it.next();
        next.catch(() => undefined);
        const r = await Promise.race([next, stop]);
        if (r === undefined || r.done || this.failure) break;
        hash.update(r.value);
        if (allZero && r.value.some((b) => b !== 0)) allZero = false;
        const data = carry.length > 0 ? Buffer.concat([carry, r.value]) : r.value;
        if (first && data.length >= ZSTD_MAGIC.length) {
          first = false;
          if (startsWith(data, GZIP_MAGIC) || startsWith(data, ZSTD_MAGIC))
            throw corrupt("layer is compressed twice (the decompressed stream is compressed again)");
        }
        const whole = data.length - (data.length % BLOCK);
        carry = data.subarray(whole);
        if (whole > 0 && !parser.write(data.subarray(0, whole)))
          await Promise.race([new Promise((r) => parser.once("drain", r)), stop]);
      }
      if (this.failure) return { allZero };
      if (carry.length > 0) parser.write(carry);
      parser.end();
      // A partial block at the end is a header cut short, which node-tar lets
      // pass; a cut inside an entry's data fails that entry.
      if (carry.some((b) => b !== 0)) throw corrupt("layer ends inside a tar header");
    } catch (e) {
      this.fail(e);
    }
    return { allZero };
  }

  private abs(parts: Parts): string {
    return parts.length === 0 ? this.root : path.join(this.root, ...parts);
  }

  private skip(name: string, reason: string): void {
    this.skipped.push({ path: name, reason });
  }

  // ------------------------------------------------------------ one entry

  private async entry(entry: tar.ReadEntry, metas: readonly string[]): Promise<void> {
    this.current = entry;
    try {
      this.entries++;
      await this.dispatch(entry, metas);
    } finally {
      this.current = undefined;
      // Whatever was not read is discarded, so the parser moves on.
      entry.resume();
    }
  }

  private async dispatch(entry: tar.ReadEntry, metas: readonly string[]): Promise<void> {
    const name = entry.path;
    const parts = parseName(name, "path");
    const isFile = FILE_TYPES.has(entry.type);
    if (isFile) this.checkSize(name, entry);
    // Neutralised: node-tar decodes names as UTF-8, and a name that is not
    // UTF-8 arrives with U+FFFD in it: writing it would invent a name, and two
    // different names could land on one file.
    if (name.includes("\uFFFD") || (entry.linkpath ?? "").includes("\uFFFD"))
      return this.skip(name, "name or link target is not valid UTF-8");

    const wh = whiteoutOf(parts, name);
    if (wh?.kind === "other") return this.skip(name, wh.reason);
    if (wh && this.opts.whiteouts === "overlay")
      return wh.kind === "opaque" ? this.opaque(wh.dir, name) : this.whiteout(wh.target, name, entry.mtime);

    // Refused: the layer root may only be given a directory's metadata.
    if (parts.length === 0 && entry.type !== "Directory" && entry.type !== "GNUDumpDir")
      throw unsafe(`entry ${show(name)} (${entry.type}) would replace the layer root`);

    const { xattrs, unreadable } = xattrsOf(metas);
    if (unreadable) this.skip(name, "extended attributes not applied: the PAX header is not valid UTF-8");
    // "keep" whiteouts are plain empty files whatever the entry's type.
    if (wh) return this.file(entry, parts, this.metaOf(entry, xattrs, 0o644));

    switch (entry.type) {
      case "File":
      case "OldFile":
      case "ContiguousFile":
        return this.file(entry, parts, this.metaOf(entry, xattrs, 0o644));
      case "Directory":
      case "GNUDumpDir":
        return this.directory(parts, this.metaOf(entry, xattrs, 0o755));
      case "SymbolicLink":
        return this.symlink(parts, entry.linkpath ?? "", this.metaOf(entry, xattrs, 0o777));
      case "Link":
        return this.hardlink(parts, entry.linkpath ?? "", name);
      case "FIFO":
        return this.fifo(parts, this.metaOf(entry, xattrs, 0o644));
      case "CharacterDevice":
      case "BlockDevice":
        // Neutralised: mknod of a device needs CAP_MKNOD in the initial user
        // namespace. A 0/0 character device would also read as an overlay
        // whiteout, which only the whiteout entries may make.
        return this.skip(name, "device nodes cannot be created rootless");
      default:
        return this.skip(name, `unsupported entry type ${entry.type}`);
    }
  }

  /** Refused (LayerTooBig): an entry over maxEntryBytes, or one that takes the layer over maxTotalBytes. */
  private checkSize(name: string, entry: tar.ReadEntry): void {
    const size = entry.size;
    if (typeof entry.header.size !== "number" || !Number.isSafeInteger(size) || size < 0)
      throw corrupt(`entry ${show(name)} has an invalid size`);
    const { maxEntryBytes, maxTotalBytes } = this.opts;
    if (maxEntryBytes !== undefined && size > maxEntryBytes)
      throw tooBig(`entry ${show(name)} is ${size} bytes, over the limit of ${maxEntryBytes}`);
    if (maxTotalBytes !== undefined && this.bytes + size > maxTotalBytes)
      throw tooBig(`layer unpacks to more than the limit of ${maxTotalBytes} bytes (at ${show(name)})`);
  }

  private metaOf(entry: tar.ReadEntry, xattrs: readonly Xattr[], defaultMode: number): Meta {
    const id = (v: number | undefined, what: string): number => {
      if (v === undefined) return 0;
      if (!Number.isInteger(v) || v < 0 || v > MAX_ID)
        throw corrupt(`entry ${show(entry.path)} has ${what} ${v}`);
      return v;
    };
    return {
      name: entry.path,
      uid: id(entry.uid, "uid"),
      gid: id(entry.gid, "gid"),
      mode: entry.mode === undefined ? defaultMode : entry.mode & 0o7777,
      mtime: validDate(entry.mtime),
      atime: validDate(entry.atime) ?? validDate(entry.mtime),
      xattrs,
    };
  }

  // ------------------------------------------------------------ paths

  /**
   * Makes sure every directory above `parts` is a real directory inside the
   * layer, creating missing ones. Refused: a symlink on the way (whether it
   * points inside or out, an archive never needs to write through one: tar
   * stores the link, not the path through it). A non-directory on the way is a
   * broken layer.
   */
  private parents(parts: Parts, name: string, upTo = parts.length - 1): void {
    for (let i = 1; i <= upTo; i++) {
      const sub = parts.slice(0, i);
      const rel = relOf(sub);
      if (this.knownDirs.has(rel)) continue;
      const abs = this.abs(sub);
      const st = lstatOrUndefined(abs);
      if (st === undefined) {
        fs.mkdirSync(abs, { mode: 0o700 });
        // A directory the tar never lists: 0755, the caller's, as Docker makes them.
        this.noteDir(sub, undefined);
      } else if (st.isSymbolicLink()) {
        throw unsafe(`entry ${show(name)} goes through the symlink ${show(rel)}`);
      } else if (!st.isDirectory()) {
        throw corrupt(`entry ${show(name)}: ${show(rel)} is not a directory`);
      }
      this.knownDirs.add(rel);
    }
  }

  private noteDir(parts: Parts, meta: Meta | undefined): void {
    const st = fs.lstatSync(this.abs(parts));
    this.dirs.set(relOf(parts), { parts, ino: st.ino, dev: st.dev, meta });
  }

  /** Removes whatever is at `parts` (a directory with all it holds), never following a symlink. */
  private clear(parts: Parts): void {
    const abs = this.abs(parts);
    const st = lstatOrUndefined(abs);
    if (st === undefined) return;
    if (st.isDirectory()) {
      fs.rmSync(abs, { recursive: true, force: true });
      const rel = relOf(parts);
      const forget = (k: string) => k === rel || k.startsWith(`${rel}/`);
      for (const k of [...this.knownDirs]) if (forget(k)) this.knownDirs.delete(k);
      for (const k of [...this.dirs.keys()]) if (forget(k)) this.dirs.delete(k);
    } else {
      fs.unlinkSync(abs);
    }
  }

  // ------------------------------------------------------------ entry kinds

  private async file(entry: tar.ReadEntry, parts: Parts, meta: Meta): Promise<void> {
    this.parents(parts, meta.name);
    this.clear(parts);
    const abs = this.abs(parts);
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
    const fd = fs.openSync(abs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      let n = 0;
      for await (const chunk of entry) {
        const b = chunk as Buffer;
        for (let off = 0; off < b.length;) off += fs.writeSync(fd, b, off, b.length - off);
        n += b.length;
      }
      // node-tar ends a cut-off entry early (and warns, which fails the layer too).
      if (n !== entry.size)
        throw corrupt(`layer ends inside ${show(meta.name)} (${n} of ${entry.size} bytes)`);
      this.bytes += n;
      await this.apply("file", abs, meta, fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  private async directory(parts: Parts, meta: Meta): Promise<void> {
    if (parts.length > 0) {
      this.parents(parts, meta.name);
      const abs = this.abs(parts);
      const st = lstatOrUndefined(abs);
      // A directory over a directory keeps its contents (tar semantics);
      // over anything else, that thing goes first: mkdir never follows a symlink.
      if (!st?.isDirectory()) {
        this.clear(parts);
        fs.mkdirSync(abs, { mode: 0o700 });
      }
      this.knownDirs.add(relOf(parts));
    }
    this.noteDir(parts, meta);
  }

  private async symlink(parts: Parts, target: string, meta: Meta): Promise<void> {
    this.parents(parts, meta.name);
    this.clear(parts);
    const abs = this.abs(parts);
    // Stored as written, absolute or climbing: it is never followed here, and
    // in the container it resolves inside the rootfs.
    fs.symlinkSync(target, abs);
    await this.apply("symlink", abs, meta);
  }

  /**
   * Refused: a target that is absolute, climbs with "..", or goes through a
   * symlink (link(2) would resolve it on the host). A target that is itself a
   * symlink is fine: link(2) on Linux links the symlink, not what it points to.
   */
  private async hardlink(parts: Parts, linkpath: string, name: string): Promise<void> {
    const target = parseName(linkpath, `hardlink target of ${show(name)}:`);
    if (target.length === 0) throw unsafe(`hardlink ${show(name)} points at the layer root`);
    if (relOf(target) === relOf(parts)) return this.skip(name, "hardlink to itself");
    if (relOf(target).startsWith(`${relOf(parts)}/`))
      throw corrupt(`hardlink ${show(name)} points inside itself (${show(linkpath)})`);
    for (let i = 1; i < target.length; i++) {
      const st = lstatOrUndefined(this.abs(target.slice(0, i)));
      if (st?.isSymbolicLink())
        throw unsafe(`hardlink ${show(name)} goes through the symlink ${show(relOf(target.slice(0, i)))}`);
      if (!st?.isDirectory())
        throw corrupt(`hardlink ${show(name)}: target ${show(linkpath)} does not exist`);
    }
    const st = lstatOrUndefined(this.abs(target));
    if (st === undefined) throw corrupt(`hardlink ${show(name)}: target ${show(linkpath)} does not exist`);
    if (st.isDirectory()) throw corrupt(`hardlink ${show(name)}: target ${show(linkpath)} is a directory`);
    this.parents(parts, name);
    this.clear(parts);
    fs.linkSync(this.abs(target), this.abs(parts));
  }

  private async fifo(parts: Parts, meta: Meta): Promise<void> {
    this.parents(parts, meta.name);
    this.clear(parts);
    const abs = this.abs(parts);
    const made = await mknod(abs, S_IFIFO | 0o600, 0);
    if (E.isLeft(made)) throw ioError(`mkfifo ${show(meta.name)}: ${sysMessage(made.left)}`);
    await this.apply("fifo", abs, meta);
  }

  /** An overlay whiteout: a 0/0 character device where the name was. */
  private async whiteout(target: Parts, name: string, mtime: Date | undefined): Promise<void> {
    this.parents(target, name);
    const abs = this.abs(target);
    const st = lstatOrUndefined(abs);
    // The OCI spec: a whiteout hides only what lower layers have. When this
    // layer already made the name, that entry hides the lower one by itself;
    // a directory must also stop showing the lower one's contents: opaque.
    if (st?.isDirectory()) return this.setOpaque(target, name);
    if (st !== undefined) return;
    const made = await mknod(abs, S_IFCHR, 0);
    if (E.isLeft(made))
      throw ioError(
        `whiteout ${show(name)}: mknod: ${sysMessage(made.left)} (this host cannot make overlay whiteouts; unpack with whiteouts "keep")`,
      );
    // The entry's mtime, so that the same layer always makes the same tree.
    const time = validDate(mtime);
    if (time) fs.lutimesSync(abs, time, time);
  }

  private async opaque(dir: Parts, name: string): Promise<void> {
    // The directory itself must be a real directory too: check it as a parent.
    this.parents([...dir, OPAQUE], name);
    await this.setOpaque(dir, name);
  }

  private async setOpaque(dir: Parts, name: string): Promise<void> {
    const abs = this.abs(dir);
    const y = Buffer.from("y");
    const user = await lsetxattr(abs, "user.overlay.opaque", y);
    if (E.isLeft(user))
      throw ioError(
        `opaque directory ${show(name)}: setting user.overlay.opaque: ${sysMessage(user.left)} (unpack with whiteouts "keep" on a filesystem without user xattrs)`,
      );
    // Only root of the initial namespace may write trusted.*: kernel overlay
    // mounted there (without userxattr) reads this one.
    await lsetxattr(abs, "trusted.overlay.opaque", y);
  }

  // ------------------------------------------------------------ metadata

  /**
   * Owner, xattrs, mode and times of one entry, in the order the header
   * comment gives. Files and directories come with an open descriptor (the
   * directory's checked against its inode); symlinks and fifos by path, just
   * made by this loop. user.* xattrs cannot be put on symlinks or fifos
   * (Linux refuses them), so neither their xattrs nor an override_stat can be kept.
   */
  private async apply(kind: Kind, abs: string, m: Meta, fd?: number): Promise<void> {
    const onPath = kind === "symlink" || kind === "fifo";
    if (this.opts.preserveOwner) {
      try {
        if (fd === undefined) fs.lchownSync(abs, m.uid, m.gid);
        else fs.fchownSync(fd, m.uid, m.gid);
      } catch (e) {
        throw ioError(
          `chown ${show(m.name)} to ${m.uid}:${m.gid}: ${describe(e)} (does this user namespace map the id? see /etc/subuid and /etc/subgid)`,
        );
      }
    }
    const ownerKept = this.opts.preserveOwner || (m.uid === this.uid && m.gid === this.gid);
    if (onPath && m.xattrs.length > 0) this.skip(m.name, `extended attributes cannot be set on a ${kind}`);
    if (!onPath) await this.setXattrs(abs, m);
    let recorded = false;
    if (!onPath && !ownerKept) recorded = await this.recordOverride(abs, m);
    if (kind !== "symlink") {
      if (fd === undefined) fs.chmodSync(abs, m.mode);
      else fs.fchmodSync(fd, m.mode);
      // Without CAP_FSETID the kernel drops setgid for a group the caller is
      // not in; fuse-overlayfs can still show the mode we were asked for.
      const st = fd === undefined ? fs.lstatSync(abs) : fs.fstatSync(fd);
      if ((st.mode & 0o7777) !== m.mode && !recorded) {
        if (onPath) this.skip(m.name, `mode ${m.mode.toString(8)} could not be kept`);
        else await this.recordOverride(abs, m);
      }
    }
    if (m.mtime) {
      const atime = m.atime ?? m.mtime;
      if (fd === undefined) fs.lutimesSync(abs, atime, m.mtime);
      else fs.futimesSync(fd, atime, m.mtime);
    }
  }

  private async setXattrs(abs: string, m: Meta): Promise<void> {
    for (const x of m.xattrs) {
      const skipped = xattrSkipped(x.name);
      if (skipped !== undefined) {
        this.skip(m.name, `xattr ${x.name}: ${skipped}`);
        continue;
      }
      // security.capability needs CAP_SETFCAP (in a user namespace the kernel
      // stores it as a v3 capability tied to the namespace's root): EPERM lists it.
      const r = await lsetxattr(abs, x.name, x.value);
      if (E.isLeft(r)) this.skip(m.name, `xattr ${x.name}: ${sysMessage(r.left)}`);
    }
  }

  private async recordOverride(abs: string, m: Meta): Promise<boolean> {
    const r = await lsetxattr(abs, OVERRIDE_STAT, overrideValue(m.uid, m.gid, m.mode));
    if (E.isRight(r)) return true;
    this.skip(
      m.name,
      `owner ${m.uid}:${m.gid} mode ${m.mode.toString(8)} not kept nor recorded: ${sysMessage(r.left)}`,
    );
    return false;
  }

  /** Directory metadata, deepest first, on each directory still being the one we made. */
  private async finishDirs(): Promise<void> {
    const all = [...this.dirs.values()].sort((a, b) => b.parts.length - a.parts.length);
    for (const d of all) {
      const abs = this.abs(d.parts);
      let fd: number;
      try {
        fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
      } catch (e) {
        throw ioError(`directory ${show(relOf(d.parts))} changed while unpacking: ${describe(e)}`);
      }
      try {
        const st = fs.fstatSync(fd);
        if (st.ino !== d.ino || st.dev !== d.dev)
          throw ioError(`directory ${show(relOf(d.parts))} changed while unpacking`);
        const meta = d.meta ?? {
          name: relOf(d.parts),
          uid: this.uid,
          gid: this.gid,
          mode: 0o755,
          atime: undefined,
          mtime: undefined,
          xattrs: [],
        };
        await this.apply("dir", abs, meta, fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}
