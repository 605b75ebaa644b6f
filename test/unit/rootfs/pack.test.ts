// The packer (nook save's layer tars): a layer written by Python's tarfile
// is unpacked, packed again, and the packed tar is read by Python's tarfile
// (an independent reader) and unpacked once more; the two trees must be the
// same. Runs as root, like unpack.test.ts, so owners can be kept and checked.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { packLayer } from "../../../src/rootfs/pack.js";
import { encodeHeader } from "../../../src/rootfs/tar-header.js";
import { unpackLayer, type UnpackOptions } from "../../../src/rootfs/unpack.js";
import { lgetxattr, llistxattr } from "../../../src/sys/libc.js";

const MAKE_TAR = fileURLToPath(new URL("./make-tar.py", import.meta.url));

interface SpecEntry {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "fifo";
  data?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  pax?: Record<string, string>;
  pax_b64?: Record<string, string>;
}

const makeTar = (entries: SpecEntry[]): Buffer =>
  execFileSync("python3", [MAKE_TAR], { input: JSON.stringify({ entries }), maxBuffer: 1 << 28 });

/** Python's tarfile's view of a tar: what an image tool would read from it. */
const READ_TAR = `
import json, sys, tarfile, io
t = tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read()), mode="r:")
kinds = {tarfile.REGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink", tarfile.FIFOTYPE: "fifo", tarfile.CHRTYPE: "char"}
out = [{"name": m.name, "type": kinds.get(m.type, str(m.type)), "size": m.size, "mode": m.mode, "uid": m.uid, "gid": m.gid, "mtime": m.mtime, "linkname": m.linkname, "pax": {k: v for k, v in m.pax_headers.items() if k.startswith("SCHILY.")}} for m in t.getmembers()]
json.dump(out, sys.stdout)
`;

interface Member {
  name: string;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
  pax: Record<string, string>;
}

const readTar = (tar: Buffer): Member[] =>
  JSON.parse(
    execFileSync("python3", ["-c", READ_TAR], { input: tar, maxBuffer: 1 << 28 }).toString(),
  ) as Member[];

const MTIME = 1767225600;
const LONG = `data/${"long-directory-name/".repeat(8)}file-with-a-long-name`;

// The fixture image's kinds of entries, with what its layers.py lacks:
// xattrs, a long name, a non-ASCII name, an id past ustar's 0o7777777.
const layer = (): SpecEntry[] => [
  { name: "data", type: "dir", mtime: MTIME - 100 },
  { name: "data/root-file", data: "owned by 0:0\n", pax: { "SCHILY.xattr.user.comment": "kept" } },
  { name: "data/app-file", data: "owned by 1000:1000\n", mode: 0o600, uid: 1000, gid: 1000 },
  { name: "data/app-dir", type: "dir", mode: 0o700, uid: 1000, gid: 1000 },
  { name: "data/app-dir/inside", data: "inside\n", uid: 1000, gid: 1000 },
  { name: "data/setuid", data: "#!/bin/sh\n", mode: 0o4755 },
  { name: "data/setgid", data: "#!/bin/sh\n", mode: 0o2755, gid: 1 },
  { name: "data/sticky", type: "dir", mode: 0o1777 },
  { name: "data/hardlink", type: "hardlink", linkname: "data/root-file" },
  { name: "data/relative-link", type: "symlink", linkname: "root-file" },
  { name: "data/absolute-link", type: "symlink", linkname: "/data/root-file" },
  { name: "data/.wh.removed-file" },
  { name: "data/opaque", type: "dir" },
  { name: "data/opaque/.wh..wh..opq" },
  { name: "data/opaque/new", data: "the only file left\n" },
  { name: "data/read-only", type: "dir", mode: 0o555, uid: 1, gid: 1 },
  { name: "data/read-only/file", data: "in a 0555 directory\n", mode: 0o444 },
  { name: "data/fifo", type: "fifo", mode: 0o620, uid: 1000, gid: 1000 },
  { name: LONG, data: "long\n" },
  { name: "data/données-é", data: "utf-8\n" },
  { name: "data/big-id", data: "id past ustar\n", uid: 3_000_000, gid: 3_000_001 },
  {
    name: "data/binary-xattr",
    data: "x\n",
    pax_b64: { "SCHILY.xattr.user.bin": Buffer.from([0x01, 0x7f]).toString("base64") },
  },
];

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "nook-pack-"));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const unpackInto = async (tar: Buffer, name: string, opts: UnpackOptions): Promise<string> => {
  const dir = join(base, name);
  mkdirSync(dir);
  const r = await unpackLayer(Readable.from([tar]), dir, opts);
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`);
  return dir;
};

const pack = async (dir: string): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of packLayer(dir)) chunks.push(c);
  return Buffer.concat(chunks);
};

/** Every entry with its owner, mode, mtime, link group, contents and xattrs, for comparing two trees. */
const dump = async (root: string): Promise<Record<string, string>> => {
  const out: Record<string, string> = {};
  const firstName = new Map<number, string>();
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === "" ? root : join(root, rel);
    const s = lstatSync(abs);
    const names = await llistxattr(abs);
    const xattrs: string[] = [];
    for (const n of E.isRight(names) ? names.right.sort() : []) {
      const v = await lgetxattr(abs, n);
      if (E.isRight(v)) xattrs.push(`${n}=${v.right.toString("hex")}`);
    }
    const what = s.isSymbolicLink()
      ? `-> ${readlinkSync(abs)}`
      : s.isFile()
        ? createHash("sha256").update(readFileSync(abs)).digest("hex")
        : `rdev ${s.rdev}`;
    if (!s.isDirectory() && s.nlink > 1 && !firstName.has(s.ino)) firstName.set(s.ino, rel);
    const link = s.isDirectory() ? "" : `links ${firstName.get(s.ino) ?? rel}`;
    out[rel] = [
      (s.mode >>> 0).toString(8),
      s.uid,
      s.gid,
      Math.floor(s.mtimeMs / 1000),
      link,
      what,
      ...xattrs,
    ].join(" ");
    if (s.isDirectory()) for (const n of readdirSync(abs).sort()) await walk(rel === "" ? n : `${rel}/${n}`);
  };
  await walk("");
  delete out[""];
  return out;
};

describe("packLayer", () => {
  for (const opts of [
    { whiteouts: "overlay", preserveOwner: true },
    { whiteouts: "keep", preserveOwner: true },
    { whiteouts: "overlay", preserveOwner: false },
  ] as const) {
    it(`packs a layer (whiteouts ${opts.whiteouts}, owners ${opts.preserveOwner ? "kept" : "recorded"}) that unpacks to the same tree`, async () => {
      const first = await unpackInto(makeTar(layer()), "first", opts);
      const packed = await pack(first);
      const second = await unpackInto(packed, "second", opts);
      expect(await dump(second)).toEqual(await dump(first));
    });
  }

  it("writes OCI whiteouts, the image's owners, links and xattrs, as another tar reader sees them", async () => {
    const dir = await unpackInto(makeTar(layer()), "tree", { whiteouts: "overlay", preserveOwner: false });
    const members = readTar(await pack(dir));
    const byName = new Map(members.map((m) => [m.name, m]));
    // The 0/0 device and the opaque xattr are OCI's .wh. entries again, before their siblings.
    expect(byName.get("data/.wh.removed-file")).toMatchObject({ type: "file", size: 0 });
    const names = members.map((m) => m.name);
    expect(names.indexOf("data/.wh.removed-file")).toBeLessThan(names.indexOf("data/app-dir"));
    expect(byName.get("data/opaque/.wh..wh..opq")).toMatchObject({ type: "file", size: 0 });
    expect(names.indexOf("data/opaque/.wh..wh..opq")).toBe(names.indexOf("data/opaque") + 1);
    // Owners and modes from override_stat (this tree was unpacked without keeping owners).
    expect(byName.get("data/app-file")).toMatchObject({ uid: 1000, gid: 1000, mode: 0o600 });
    expect(byName.get("data/setgid")).toMatchObject({ uid: 0, gid: 1, mode: 0o2755 });
    expect(byName.get("data/big-id")).toMatchObject({ uid: 3_000_000, gid: 3_000_001 });
    expect(byName.get("data/fifo")).toMatchObject({ type: "fifo", mode: 0o620 });
    // Two names of one file: the first in the walk's (sorted) order holds the data, the other links to it.
    expect(byName.get("data/hardlink")).toMatchObject({ type: "file", size: 13 });
    expect(byName.get("data/root-file")).toMatchObject({ type: "hardlink", linkname: "data/hardlink" });
    expect(byName.get("data/absolute-link")).toMatchObject({ type: "symlink", linkname: "/data/root-file" });
    expect(byName.get(LONG)).toMatchObject({ type: "file", size: 5 });
    expect(byName.get("data/données-é")).toMatchObject({ type: "file" });
    expect(byName.get("data")).toMatchObject({ type: "dir", mtime: MTIME - 100 });
    // user.* xattrs come back; the unpacker's own metadata does not.
    expect(byName.get("data/hardlink")?.pax).toEqual({ "SCHILY.xattr.user.comment": "kept" });
    expect(byName.get("data/app-file")?.pax).toEqual({});
    expect(byName.get("data/opaque")?.pax).toEqual({});
  });

  it("gives the same bytes for the same tree", async () => {
    const dir = await unpackInto(makeTar(layer()), "tree", { whiteouts: "overlay", preserveOwner: true });
    expect((await pack(dir)).equals(await pack(dir))).toBe(true);
  });
});

describe("encodeHeader", () => {
  it("writes a plain ustar header for a short ASCII entry, and PAX records only when needed", () => {
    const plain = encodeHeader({
      path: "a",
      type: "File",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 3,
      mtime: MTIME,
    });
    expect(plain.length).toBe(512);
    const long = encodeHeader({
      path: "é".repeat(60),
      type: "File",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
    });
    expect(long.length).toBe(3 * 512);
    expect(long.subarray(512, 1024).toString("utf8")).toMatch(/^\d+ path=é+\n/);
  });
});
