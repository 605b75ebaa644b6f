// Writing tar headers: a ustar header block (node-tar's Header encodes it),
// preceded by a PAX extended header when a field does not fit ustar (long or
// non-ASCII names, ids past 0o7777777, files past 8 GiB) or the entry has
// extended attributes (SCHILY.xattr.NAME records, as GNU tar and Go's
// archive/tar write them, and as rootfs/unpack.ts reads them). node-tar's
// own Pax writes no xattr records, so the PAX body is built here.
//
// Times are whole seconds and no atime/ctime is written, as Docker and
// containers/storage write layers: the same tree makes the same bytes.
import * as tar from "tar";

export type TarEntryType = "File" | "Directory" | "SymbolicLink" | "Link" | "FIFO" | "CharacterDevice";

export interface TarXattr {
  readonly name: string;
  readonly value: Buffer;
}

export interface TarEntry {
  readonly path: string;
  readonly type: TarEntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of data that follow the header (0 for all but files). */
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly linkpath?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly xattrs?: readonly TarXattr[];
}

export const BLOCK = 512;

/** Two zero blocks end an archive (POSIX ustar). */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

/** Zeros that bring `size` bytes of data to a whole block. */
export const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** One PAX record, "LEN KEY=VALUE\n", where LEN counts the whole record in bytes, its own digits too. */
const paxRecord = (key: string, value: Buffer): Buffer => {
  const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
  let len = rest + 1;
  while (len !== rest + String(len).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from("\n")]);
};

const MAX_ID = 0o7777777;
const MAX_SIZE = 0o77777777777;
const isPlain = (s: string, max: number): boolean => /^[\x20-\x7e]*$/.test(s) && s.length < max;

const ustar = (e: TarEntry, path: string): { block: Buffer; needPax: boolean } => {
  const h = new tar.Header({
    path,
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtime: new Date(e.mtime * 1000),
    linkpath: e.linkpath ?? "",
    uname: "",
    gname: "",
    devmaj: e.devmajor ?? 0,
    devmin: e.devminor ?? 0,
  });
  const block = Buffer.alloc(BLOCK);
  const needPax = h.encode(block);
  return { block, needPax };
};

/** The header blocks of one entry (its data and padding follow). */
export const encodeHeader = (e: TarEntry): Buffer => {
  const { block, needPax } = ustar(e, e.path);
  const xattrs = e.xattrs ?? [];
  if (!needPax && xattrs.length === 0) return block;
  const records: Buffer[] = [];
  if (!isPlain(e.path, 100)) records.push(paxRecord("path", Buffer.from(e.path)));
  if (e.linkpath !== undefined && !isPlain(e.linkpath, 100))
    records.push(paxRecord("linkpath", Buffer.from(e.linkpath)));
  if (e.uid > MAX_ID) records.push(paxRecord("uid", Buffer.from(String(e.uid))));
  if (e.gid > MAX_ID) records.push(paxRecord("gid", Buffer.from(String(e.gid))));
  if (e.size > MAX_SIZE) records.push(paxRecord("size", Buffer.from(String(e.size))));
  for (const x of xattrs) records.push(paxRecord(`SCHILY.xattr.${x.name}`, x.value));
  const body = Buffer.concat(records);
  const base = e.path.replace(/\/$/, "").split("/").pop() ?? "";
  const paxName = `PaxHeaders/${base.replace(/[^\x20-\x7e]/g, "_")}`.slice(0, 99);
  const pax = new tar.Header({
    path: paxName,
    type: "ExtendedHeader",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: new Date(e.mtime * 1000),
    uname: "",
    gname: "",
  });
  const paxBlock = Buffer.alloc(BLOCK);
  pax.encode(paxBlock);
  return Buffer.concat([paxBlock, body, padding(body.length), block]);
};
