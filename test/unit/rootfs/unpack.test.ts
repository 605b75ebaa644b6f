// The unpacker on well-formed layers: the "layers" fixture image's semantics
// (scripts/fixtures/layers.py) written by Python's tarfile, checked entry by
// entry. These tests run as root, so chown works and owners can be checked;
// hostile-layers.test.ts also runs it as other users.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  type Stats,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as E from "fp-ts/lib/Either.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { unpackLayer, type UnpackOptions, type UnpackResult } from "../../../src/rootfs/unpack.js";
import { lgetxattr } from "../../../src/sys/libc.js";

const MAKE_TAR = fileURLToPath(new URL("./make-tar.py", import.meta.url));
const MTIME = 1767225600;

interface TarEntry {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";
  data?: string;
  data_b64?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  pax?: Record<string, string>;
  pax_b64?: Record<string, string>;
}

const makeTar = (entries: TarEntry[], extra: { format?: string; gzip?: boolean } = {}): Buffer =>
  execFileSync("python3", [MAKE_TAR], { input: JSON.stringify({ ...extra, entries }), maxBuffer: 1 << 28 });

const OVERLAY: UnpackOptions = { whiteouts: "overlay", preserveOwner: true };
const KEEP: UnpackOptions = { whiteouts: "keep", preserveOwner: true };

let base: string;
let dest: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "nook-unpack-"));
  dest = join(base, "dest");
  mkdirSync(dest);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const unpack = async (
  tar: Buffer | Iterable<Buffer>,
  opts: UnpackOptions = OVERLAY,
  into: string = dest,
): Promise<UnpackResult> => {
  const r = await unpackLayer(Readable.from(Buffer.isBuffer(tar) ? [tar] : tar), into, opts);
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`);
  return r.right;
};

const st = (p: string): Stats => lstatSync(join(dest, p));
const mode = (p: string): number => st(p).mode & 0o7777;
const owner = (p: string): string => `${st(p).uid}:${st(p).gid}`;
const text = (p: string): string => readFileSync(join(dest, p), "utf8");
const xattr = async (p: string, name: string): Promise<string | undefined> => {
  const r = await lgetxattr(join(dest, p), name);
  return E.isRight(r) ? r.right.toString("latin1") : undefined;
};
/** Every entry under `root` with what the tests care about, for comparing two trees. */
const dumpTree = async (root: string): Promise<Record<string, string>> => {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    const abs = join(root, rel);
    const s = lstatSync(abs);
    const xattrs = [];
    for (const n of ["user.overlay.opaque", "user.containers.override_stat"]) {
      const v = await lgetxattr(abs, n);
      if (E.isRight(v)) xattrs.push(`${n}=${v.right.toString()}`);
    }
    const what = s.isSymbolicLink()
      ? `-> ${readlinkSync(abs)}`
      : s.isFile()
        ? createHash("sha256").update(readFileSync(abs)).digest("hex")
        : `rdev ${s.rdev}`;
    out[rel] = [(s.mode >>> 0).toString(8), s.uid, s.gid, s.mtimeMs, s.nlink, what, ...xattrs].join(" ");
    if (s.isDirectory()) for (const n of readdirSync(abs).sort()) await walk(rel === "" ? n : `${rel}/${n}`);
  };
  await walk("");
  delete out[""];
  return out;
};

const sha256 = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

// The first layer of the fixture image, with its second layer's whiteouts and
// opaque directory folded in, and a few kinds the fixture does not have.
const fixtureLayer = (): TarEntry[] => [
  { name: "data", type: "dir" },
  { name: "data/root-file", data: "owned by 0:0\n" },
  { name: "data/daemon-file", data: "owned by 1:1\n", mode: 0o640, uid: 1, gid: 1 },
  { name: "data/app-file", data: "owned by 1000:1000\n", mode: 0o600, uid: 1000, gid: 1000 },
  { name: "data/nobody-file", data: "owned by 65534:65534\n", uid: 65534, gid: 65534 },
  { name: "data/app-dir", type: "dir", mode: 0o700, uid: 1000, gid: 1000 },
  { name: "data/app-dir/inside", data: "in a 0700 directory of uid 1000\n", uid: 1000, gid: 1000 },
  { name: "data/setuid", data: "#!/bin/sh\n", mode: 0o4755 },
  { name: "data/setgid", data: "#!/bin/sh\n", mode: 0o2755, gid: 1 },
  { name: "data/sticky", type: "dir", mode: 0o1777 },
  { name: "data/hardlink", type: "hardlink", linkname: "data/root-file" },
  { name: "data/relative-link", type: "symlink", linkname: "root-file" },
  { name: "data/absolute-link", type: "symlink", linkname: "/data/root-file" },
  { name: "data/dangling-link", type: "symlink", linkname: "does-not-exist" },
  { name: "data/climbing-link", type: "symlink", linkname: "../../../../etc/passwd", uid: 1000, gid: 1000 },
  { name: "data/.wh.removed-file" },
  { name: "data/opaque", type: "dir" },
  { name: "data/opaque/.wh..wh..opq" },
  { name: "data/opaque/new", data: "the only file left in the opaque directory\n" },
  { name: "data/read-only", type: "dir", mode: 0o555, uid: 1, gid: 1 },
  { name: "data/read-only/file", data: "in a 0555 directory\n", mode: 0o444 },
  { name: "data/fifo", type: "fifo", mode: 0o620, uid: 1000, gid: 1000 },
];

describe("unpackLayer on the layers fixture", () => {
  it("keeps owners and modes exactly, setuid, setgid and sticky bits included", async () => {
    const r = await unpack(makeTar(fixtureLayer()));
    expect(r.skipped).toEqual([]);
    expect(r.entries).toBe(fixtureLayer().length);
    expect(text("data/root-file")).toBe("owned by 0:0\n");
    expect([owner("data/root-file"), mode("data/root-file")]).toEqual(["0:0", 0o644]);
    expect([owner("data/daemon-file"), mode("data/daemon-file")]).toEqual(["1:1", 0o640]);
    expect([owner("data/app-file"), mode("data/app-file")]).toEqual(["1000:1000", 0o600]);
    expect([owner("data/nobody-file"), mode("data/nobody-file")]).toEqual(["65534:65534", 0o644]);
    expect([owner("data/app-dir"), mode("data/app-dir")]).toEqual(["1000:1000", 0o700]);
    expect(owner("data/app-dir/inside")).toBe("1000:1000");
    expect([owner("data/setuid"), mode("data/setuid")]).toEqual(["0:0", 0o4755]);
    expect([owner("data/setgid"), mode("data/setgid")]).toEqual(["0:1", 0o2755]);
    expect(mode("data/sticky")).toBe(0o1777);
    expect(st("data/sticky").isDirectory()).toBe(true);
    expect([owner("data/read-only"), mode("data/read-only"), mode("data/read-only/file")]).toEqual([
      "1:1",
      0o555,
      0o444,
    ]);
    expect(st("data/fifo").isFIFO()).toBe(true);
    expect([owner("data/fifo"), mode("data/fifo")]).toEqual(["1000:1000", 0o620]);
  });

  it("makes hardlinks real hard links and stores symlink targets verbatim", async () => {
    await unpack(makeTar(fixtureLayer()));
    expect(st("data/hardlink").ino).toBe(st("data/root-file").ino);
    expect(st("data/root-file").nlink).toBe(2);
    expect(readlinkSync(join(dest, "data/relative-link"))).toBe("root-file");
    expect(readlinkSync(join(dest, "data/absolute-link"))).toBe("/data/root-file");
    expect(readlinkSync(join(dest, "data/dangling-link"))).toBe("does-not-exist");
    expect(readlinkSync(join(dest, "data/climbing-link"))).toBe("../../../../etc/passwd");
    expect(owner("data/climbing-link")).toBe("1000:1000");
  });

  it("sets every mtime from the tar, directories included", async () => {
    await unpack(makeTar(fixtureLayer()));
    for (const p of [
      "data",
      "data/root-file",
      "data/app-dir",
      "data/read-only",
      "data/fifo",
      "data/absolute-link",
    ])
      expect([p, st(p).mtimeMs]).toEqual([p, MTIME * 1000]);
  });

  it("stores whiteouts as 0/0 character devices and marks opaque directories in overlay mode", async () => {
    await unpack(makeTar(fixtureLayer()), OVERLAY);
    const wh = st("data/removed-file");
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(() => st("data/.wh.removed-file")).toThrow(/ENOENT/);
    expect(await xattr("data/opaque", "user.overlay.opaque")).toBe("y");
    // Root here, so the trusted.* form is permitted too.
    expect(await xattr("data/opaque", "trusted.overlay.opaque")).toBe("y");
    expect(() => st("data/opaque/.wh..wh..opq")).toThrow(/ENOENT/);
    expect(text("data/opaque/new")).toBe("the only file left in the opaque directory\n");
    expect(await xattr("data", "user.overlay.opaque")).toBeUndefined();
  });

  it("keeps whiteouts as plain empty files in keep mode", async () => {
    await unpack(makeTar(fixtureLayer()), KEEP);
    expect(st("data/.wh.removed-file").isFile()).toBe(true);
    expect(st("data/.wh.removed-file").size).toBe(0);
    expect(st("data/opaque/.wh..wh..opq").isFile()).toBe(true);
    expect(() => st("data/removed-file")).toThrow(/ENOENT/);
    expect(await xattr("data/opaque", "user.overlay.opaque")).toBeUndefined();
  });

  it("gives the diff id of the uncompressed tar, and the same result for gzip input", async () => {
    const tar = makeTar(fixtureLayer());
    const plain = await unpack(tar);
    const other = join(base, "gz");
    mkdirSync(other);
    const gz = await unpack(gzipSync(tar), OVERLAY, other);
    expect(plain.diffId).toBe(sha256(tar));
    expect(gz).toEqual(plain);
    expect(await dumpTree(other)).toEqual(await dumpTree(dest));
  });

  it("records user.containers.override_stat for owners it cannot keep (preserveOwner false)", async () => {
    await unpack(makeTar(fixtureLayer()), { whiteouts: "overlay", preserveOwner: false });
    // Everything belongs to the caller (root here)...
    for (const p of ["data/app-file", "data/app-dir", "data/daemon-file", "data/setgid"])
      expect(owner(p)).toBe("0:0");
    // ...and fuse-overlayfs shows the tar's owners and modes from the xattr.
    expect(await xattr("data/app-file", "user.containers.override_stat")).toBe("1000:1000:0600");
    expect(await xattr("data/app-dir", "user.containers.override_stat")).toBe("1000:1000:0700");
    expect(await xattr("data/daemon-file", "user.containers.override_stat")).toBe("1:1:0640");
    expect(await xattr("data/setgid", "user.containers.override_stat")).toBe("0:1:2755");
    expect(await xattr("data/read-only", "user.containers.override_stat")).toBe("1:1:0555");
    // Entries the caller owns in the tar need none; their modes are exact.
    expect(await xattr("data/root-file", "user.containers.override_stat")).toBeUndefined();
    expect(await xattr("data/setuid", "user.containers.override_stat")).toBeUndefined();
    expect(mode("data/setuid")).toBe(0o4755);
    expect(mode("data/app-file")).toBe(0o600);
  });
});

describe("unpackLayer", () => {
  it("restores user.* xattrs from PAX records and lists the others as skipped", async () => {
    const cap = Buffer.from("0100000200200000000000000000000000000000", "hex"); // v2, cap_net_raw effective
    const r = await unpack(
      makeTar([
        {
          name: "f",
          data: "x",
          pax: {
            "SCHILY.xattr.user.note": "h\u00e9llo = world",
            "SCHILY.xattr.trusted.secret": "no",
            "SCHILY.xattr.system.posix_acl_access": "no",
          },
          pax_b64: { "SCHILY.xattr.security.capability": cap.toString("base64") },
        },
        { name: "d", type: "dir", pax: { "SCHILY.xattr.user.dir": "yes" } },
      ]),
    );
    expect(await xattr("f", "user.note")).toBe(Buffer.from("h\u00e9llo = world").toString("latin1"));
    expect(await xattr("d", "user.dir")).toBe("yes");
    expect(await xattr("f", "trusted.secret")).toBeUndefined();
    const got = await lgetxattr(join(dest, "f"), "security.capability");
    expect(got).toEqual(E.right(cap));
    expect(r.skipped.map((s) => [s.path, s.reason.split(":")[0]])).toEqual([
      ["f", "xattr trusted.secret"],
      ["f", "xattr system.posix_acl_access"],
    ]);
  });

  it("unpacks a layer of only zero blocks (an empty layer) to nothing", async () => {
    const empty = makeTar([]);
    const r = await unpack(empty);
    expect(r).toEqual({ entries: 0, bytes: 0, skipped: [], diffId: sha256(empty) });
    expect(execFileSync("ls", ["-A", dest]).toString()).toBe("");
  });

  it("gives the layer root the mode, owner and mtime of a ./ entry", async () => {
    await unpack(
      makeTar([
        { name: "./", type: "dir", mode: 0o751, uid: 5, gid: 6 },
        { name: "./a", data: "a" },
      ]),
    );
    expect(lstatSync(dest).mode & 0o7777).toBe(0o751);
    expect(`${lstatSync(dest).uid}:${lstatSync(dest).gid}`).toBe("5:6");
    expect(lstatSync(dest).mtimeMs).toBe(MTIME * 1000);
    expect(text("a")).toBe("a");
  });

  it("lets a later entry replace an earlier one of the same name, whatever their kinds", async () => {
    const r = await unpack(
      makeTar([
        { name: "x", type: "dir" },
        { name: "x/inner", data: "gone" },
        { name: "x", data: "now a file" },
        { name: "y", data: "a file" },
        { name: "y", type: "dir", mode: 0o710 },
        { name: "z", type: "symlink", linkname: "x" },
        { name: "z", data: "not through the link" },
      ]),
    );
    expect(text("x")).toBe("now a file");
    expect([st("y").isDirectory(), mode("y")]).toEqual([true, 0o710]);
    expect(text("z")).toBe("not through the link");
    expect(text("x")).toBe("now a file");
    expect(r.bytes).toBe(
      "gone".length + "now a file".length + "a file".length + "not through the link".length,
    );
  });

  it("makes parent directories the tar does not list, 0755 and the caller's", async () => {
    await unpack(makeTar([{ name: "a/b/c", data: "deep", uid: 7, gid: 7 }]));
    expect([mode("a"), owner("a"), mode("a/b"), owner("a/b/c")]).toEqual([0o755, "0:0", 0o755, "7:7"]);
  });

  it("turns a whiteout of a name this layer made into an opaque directory, or leaves the file", async () => {
    await unpack(
      makeTar([
        { name: "d/kept", data: "k" },
        { name: ".wh.d" },
        { name: "f", data: "f" },
        { name: ".wh.f" },
      ]),
    );
    expect(await xattr("d", "user.overlay.opaque")).toBe("y");
    expect(text("d/kept")).toBe("k");
    expect(text("f")).toBe("f");
  });

  it("writes a big file fed in odd-sized chunks, with the right bytes and diff id", async () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const tar = makeTar([
      { name: "big", data_b64: big.toString("base64") },
      { name: "after", data: "end" },
    ]);
    const chunks = function* () {
      for (let i = 0; i < tar.length; i += 1000 + (i % 7)) yield tar.subarray(i, i + 1000 + (i % 7));
    };
    const r = await unpack(chunks());
    expect(readFileSync(join(dest, "big")).equals(big)).toBe(true);
    expect(text("after")).toBe("end");
    expect(r.bytes).toBe(big.length + 3);
    expect(r.diffId).toBe(sha256(tar));
  });

  it("reads GNU and ustar format tars as well as PAX", async () => {
    for (const format of ["gnu", "ustar"]) {
      const into = join(base, format);
      mkdirSync(into);
      const long = `${"d".repeat(90)}/${"e".repeat(90)}/file`;
      await unpack(makeTar([{ name: long, data: format, uid: 1000 }], { format }), OVERLAY, into);
      expect(readFileSync(join(into, long), "utf8")).toBe(format);
      expect(lstatSync(join(into, long)).uid).toBe(1000);
    }
  });

  it("fails with UnpackIoError, and does not hang, when the input stream is destroyed", async () => {
    const tar = makeTar([{ name: "f", data: "x".repeat(100_000) }]);
    const input = new Readable({ read() {} });
    input.push(tar.subarray(0, 20_000));
    const result = unpackLayer(input, dest, OVERLAY);
    setTimeout(() => input.destroy(), 50);
    const r = await result;
    expect(E.isLeft(r) && r.left._tag).toBe("UnpackIoError");
  });

  it("refuses a destination that is not an empty directory", async () => {
    mkdirSync(join(dest, "x"));
    const r = await unpackLayer(Readable.from([makeTar([])]), dest, OVERLAY);
    expect(E.isLeft(r) && r.left).toEqual({
      _tag: "UnpackIoError",
      message: `unpacking layer: ${dest} is not empty`,
    });
  });
});
