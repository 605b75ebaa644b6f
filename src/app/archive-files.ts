// The files of an image archive, by member path, for nook load: either a tar
// stream (a file or stdin, plain or gzip) copied member by member into a
// store temp directory as it is read, or an OCI layout directory read in
// place.
//
// Why a copy: both formats may put their metadata last (docker save and
// skopeo write manifest.json after the layers; an OCI archive's index.json
// can come anywhere), so which member is which image's layer is known only
// at the end of the stream, and stdin cannot be read twice. Each member is
// hashed as it is copied, so a blob named by its digest is checked without a
// second read. Members are stored under numbers, never under their names: a
// hostile member name cannot place a file anywhere.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import * as E from "fp-ts/lib/Either.js";
import * as tar from "tar";
import { linkTarget, memberPath } from "../image/archive-member.js";
import type { Digest } from "../image/digest.js";
import type { NookError } from "../lib/errors.js";

export interface ArchiveMember {
  /** The file that holds the member's bytes. */
  readonly file: string;
  readonly size: number;
  /** sha256 of its bytes when already known (members copied from a stream). */
  readonly digest: Digest | undefined;
}

export interface ArchiveFiles {
  /** How messages name the archive: "archive x.tar", "stdin", "directory ./layout". */
  readonly name: string;
  member(path: string): Promise<ArchiveMember | undefined>;
}

export type ArchiveReadError = { readonly _tag: "InvalidArchive" | "LoadIoError"; readonly message: string };

const invalid = (message: string): ArchiveReadError => ({ _tag: "InvalidArchive", message });

const magic = (b: Buffer, ...bytes: number[]): boolean => bytes.every((x, i) => b[i] === x);

/** What the first bytes say the stream is compressed with, when it is not plain or gzip. */
const unsupportedCompression = (head: Buffer): string | undefined =>
  magic(head, 0x28, 0xb5, 0x2f, 0xfd)
    ? "zstd"
    : magic(head, 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)
      ? "xz"
      : magic(head, 0x42, 0x5a, 0x68)
        ? "bzip2"
        : undefined;

class Failure extends Error {
  constructor(readonly error: ArchiveReadError) {
    super(error.message);
  }
}

/** The archive's tar bytes: the input, gunzipped when it starts with gzip's magic. */
async function* tarStream(input: AsyncIterable<unknown>, name: string): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < 6 && !done) {
    const r = await it.next();
    if (r.done) done = true;
    else head = Buffer.concat([head, Buffer.from(r.value as Buffer)]);
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    while (!done) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.from(r.value as Buffer);
    }
  }
  const compression = unsupportedCompression(head);
  if (compression !== undefined)
    throw new Failure(invalid(`${name} is ${compression}-compressed; nook loads plain or gzip archives`));
  if (!magic(head, 0x1f, 0x8b)) return yield* all();
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  pipeline(Readable.from(all()), gunzip).catch(() => undefined);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (e) {
    throw new Failure(invalid(`${name} is not valid gzip: ${(e as Error).message}`));
  }
}

interface Spooled {
  readonly files: Map<string, ArchiveMember>;
  /** Symbolic and hard links between members: path -> target path. */
  readonly links: Map<string, string | undefined>;
}

const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);

/** Copies every regular member of the tar stream into `dir`; links are kept as names. */
class Spooler {
  readonly spooled: Spooled = { files: new Map(), links: new Map() };
  private count = 0;
  private entries = 0;
  private failure: ArchiveReadError | undefined;
  private sawUnrecognised = false;

  constructor(
    private readonly dir: string,
    private readonly name: string,
  ) {}

  private fail(e: ArchiveReadError): void {
    this.failure ??= e;
  }

  private onEntry(entry: tar.ReadEntry): void {
    this.entries++;
    const path = memberPath(entry.path);
    if (this.failure || path === undefined) return void entry.resume();
    // A later member of the same name replaces an earlier one, as tar extracts them.
    if (entry.type === "SymbolicLink" || entry.type === "Link") {
      const target = entry.linkpath ?? "";
      this.spooled.files.delete(path);
      this.spooled.links.set(path, entry.type === "Link" ? memberPath(target) : linkTarget(path, target));
      return void entry.resume();
    }
    if (!FILE_TYPES.has(entry.type)) return void entry.resume();
    this.spooled.links.delete(path);
    const file = join(this.dir, String(this.count++));
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    } catch (e) {
      this.fail({ _tag: "LoadIoError", message: `copying ${this.name}: ${(e as Error).message}` });
      return void entry.resume();
    }
    const hash = createHash("sha256");
    let n = 0;
    entry.on("data", (chunk: Buffer) => {
      if (this.failure || fd === undefined) return;
      try {
        for (let off = 0; off < chunk.length;) off += fs.writeSync(fd, chunk, off, chunk.length - off);
        hash.update(chunk);
        n += chunk.length;
      } catch (e) {
        this.fail({ _tag: "LoadIoError", message: `copying ${this.name}: ${(e as Error).message}` });
      }
    });
    entry.on("end", () => {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
      if (n !== entry.size)
        return this.fail(
          invalid(`${this.name} ends inside ${JSON.stringify(path)} (${n} of ${entry.size} bytes)`),
        );
      this.spooled.files.set(path, { file, size: n, digest: `sha256:${hash.digest("hex")}` as Digest });
    });
  }

  async run(input: AsyncIterable<unknown>): Promise<E.Either<ArchiveReadError, Spooled>> {
    const parser = new tar.Parser({ strict: false, zstd: false, brotli: false });
    parser.on("warn", (code: string, message: string) => {
      if (code === "TAR_BAD_ARCHIVE" && message === "Unrecognized archive format")
        this.sawUnrecognised = true;
      // A bad first header: this is no tar at all, rather than a damaged one.
      else if (this.entries === 0) this.sawUnrecognised = true;
      else this.fail(invalid(`${this.name} is not a valid tar archive: ${message}`));
    });
    parser.on("error", (e: Error) =>
      this.fail(invalid(`${this.name} is not a valid tar archive: ${e.message}`)),
    );
    parser.on("entry", (entry: tar.ReadEntry) => this.onEntry(entry));
    const ended = new Promise<void>((resolve) => parser.once("end", resolve));
    try {
      for await (const chunk of tarStream(input, this.name)) {
        if (this.failure) break;
        if (!parser.write(chunk)) await new Promise((r) => parser.once("drain", r));
      }
      if (!this.failure) parser.end();
      // The parser ends after its last entry; a failure may have stopped it short of that.
      if (!this.failure) await ended;
    } catch (e) {
      if (e instanceof Failure) this.fail(e.error);
      else this.fail({ _tag: "LoadIoError", message: `reading ${this.name}: ${(e as Error).message}` });
    }
    if (!this.failure && this.sawUnrecognised) this.fail(invalid(`${this.name} is not a tar archive`));
    return this.failure ? E.left(this.failure) : E.right(this.spooled);
  }
}

/** Follows links between members (a few hops at most: a loop is a broken archive). */
const resolve = (s: Spooled, path: string): ArchiveMember | undefined => {
  let p: string | undefined = path;
  for (let hops = 0; p !== undefined && hops < 8; hops++) {
    const f = s.files.get(p);
    if (f) return f;
    p = s.links.get(p);
  }
  return undefined;
};

/** Reads a tar stream into `dir` (a fresh store temp directory the caller removes). */
export const spoolArchive = async (
  input: AsyncIterable<unknown>,
  dir: string,
  name: string,
): Promise<E.Either<NookError, ArchiveFiles>> => {
  const spooled = await new Spooler(dir, name).run(input);
  if (E.isLeft(spooled)) return spooled;
  const s = spooled.right;
  return E.right({ name, member: async (path) => resolve(s, path) });
};

/** An OCI layout (or an unpacked docker save) directory, read in place. */
export const directoryFiles = (dir: string, name: string): ArchiveFiles => ({
  name,
  member: async (path) => {
    const p = memberPath(path);
    if (p === undefined) return undefined;
    const file = join(dir, p);
    const st = await fs.promises.stat(file).catch(() => undefined);
    return st?.isFile() ? { file, size: st.size, digest: undefined } : undefined;
  },
});
