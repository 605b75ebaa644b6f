// Hostile layers (DESIGN.md section 6: named after what they defend against).
// Each case is either refused (the layer fails with UnsafeLayerEntry, or
// CorruptLayer / LayerTooBig for broken framing) or neutralised (the entry is
// skipped and listed, the rest of the layer unpacks); src/rootfs/unpack.ts
// says why for each. Every test checks a sentinel directory beside the layer
// directory, listed before and after, so a write outside shows whatever the
// result says. The core traversal cases run again as root of nook-sub's user
// namespace (how nook runs the unpacker), and as a user with no namespace.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  unpackLayer,
  type UnpackError,
  type UnpackOptions,
  type UnpackResult,
} from "../../../src/rootfs/unpack.js";
import { lgetxattr } from "../../../src/sys/libc.js";

const MAKE_TAR = fileURLToPath(new URL("./make-tar.py", import.meta.url));
const UNPACK_TS = fileURLToPath(new URL("../../../src/rootfs/unpack.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../../", import.meta.url));

interface TarEntry {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";
  data?: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
  pax_b64?: Record<string, string>;
}

interface TarSpec {
  format?: "pax" | "gnu" | "ustar";
  gzip?: boolean;
  cut?: number;
}

const makeTar = (entries: TarEntry[], extra: TarSpec = {}): Buffer =>
  execFileSync("python3", [MAKE_TAR], { input: JSON.stringify({ ...extra, entries }), maxBuffer: 1 << 26 });

const OVERLAY: UnpackOptions = { whiteouts: "overlay", preserveOwner: true };
const KEEP: UnpackOptions = { whiteouts: "keep", preserveOwner: true };

// ------------------------------------------------------------ the sentinel

let base: string;
let dest: string;
let outside: string;

const makeDirs = (): void => {
  base = mkdtempSync(join(tmpdir(), "nook-hostile-"));
  dest = join(base, "layer");
  outside = join(base, "outside");
  mkdirSync(dest);
  mkdirSync(join(outside, "dir"), { recursive: true });
  writeFileSync(join(outside, "secret"), "secret\n", { mode: 0o644 });
  writeFileSync(join(outside, "dir", "file"), "file\n", { mode: 0o600 });
};

const WATCHED_XATTRS = [
  "user.overlay.opaque",
  "trusted.overlay.opaque",
  "user.containers.override_stat",
  "user.x",
];

/**
 * Everything in `base` but the layer directory's contents: kind, mode,
 * owner, size, mtime, link count, contents, link target and the xattrs the
 * unpacker writes. Also `base` and `dest` themselves: their mode and owner,
 * and base's mtime (any entry made or removed beside the layer changes it).
 */
const sentinel = async (): Promise<Record<string, string>> => {
  const out: Record<string, string> = {};
  const describeAt = async (abs: string): Promise<string> => {
    const s = lstatSync(abs);
    const parts = [s.mode.toString(8), `${s.uid}:${s.gid}`, s.size, s.mtimeMs, s.nlink];
    if (s.isSymbolicLink()) parts.push(`-> ${readlinkSync(abs)}`);
    if (s.isFile()) parts.push(createHash("sha256").update(readFileSync(abs)).digest("hex"));
    for (const n of WATCHED_XATTRS) if (E.isRight(await lgetxattr(abs, n))) parts.push(n);
    return parts.join(" ");
  };
  const walk = async (rel: string): Promise<void> => {
    const abs = join(base, rel);
    out[rel] = await describeAt(abs);
    if (lstatSync(abs).isDirectory()) for (const n of readdirSync(abs).sort()) await walk(join(rel, n));
  };
  out["."] = await describeAt(base);
  for (const n of readdirSync(base).sort()) if (n !== "layer") await walk(n);
  const d = lstatSync(dest);
  out["layer itself"] = `${d.isDirectory()} ${d.mode.toString(8)} ${d.uid}:${d.gid}`;
  return out;
};

type Unpacker = (tar: Buffer, opts: UnpackOptions) => Promise<E.Either<UnpackError, UnpackResult>>;

const inProcess: Unpacker = (tar, opts) => unpackLayer(Readable.from([tar]), dest, opts);

const refused = async (
  tar: Buffer,
  tag: UnpackError["_tag"],
  opts: UnpackOptions = OVERLAY,
  run: Unpacker = inProcess,
): Promise<string> => {
  const before = await sentinel();
  const r = await run(tar, opts);
  expect(await sentinel()).toEqual(before);
  if (E.isRight(r)) throw new Error(`expected ${tag}, got success: ${JSON.stringify(r.right)}`);
  expect(r.left._tag).toBe(tag);
  return r.left.message;
};

const neutralised = async (
  tar: Buffer,
  opts: UnpackOptions = OVERLAY,
  run: Unpacker = inProcess,
): Promise<UnpackResult> => {
  const before = await sentinel();
  const r = await run(tar, opts);
  expect(await sentinel()).toEqual(before);
  if (E.isLeft(r)) throw new Error(`expected success, got ${r.left._tag}: ${r.left.message}`);
  return r.right;
};

const inLayer = (p: string) => join(dest, p);

/** An empty layer directory again, owned like the one it replaces. */
const resetDest = (): void => {
  const { uid, gid } = lstatSync(dest);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest);
  chownSync(dest, uid, gid);
};

// ------------------------------------------------------------ the cases, by name

/** Each case: a tar made from the sentinel's path, and the check of the outcome. */
interface Case {
  readonly name: string;
  readonly check: (run: Unpacker) => Promise<void>;
}

const cases: Case[] = [
  {
    name: "refuses a path that climbs out of the layer with ../",
    check: async (run) => {
      for (const name of ["../outside/evil", "a/../../outside/evil", "./../outside/secret"]) {
        const msg = await refused(
          makeTar([
            { name: "a", type: "dir" },
            { name, data: "pwned" },
          ]),
          "UnsafeLayerEntry",
          OVERLAY,
          run,
        );
        expect(msg).toMatch(/leaves the layer/);
        resetDest();
      }
    },
  },
  {
    name: "refuses an absolute path (/etc/x) instead of re-rooting it",
    check: async (run) => {
      const msg = await refused(
        makeTar([{ name: join(outside, "evil"), data: "pwned" }]),
        "UnsafeLayerEntry",
        OVERLAY,
        run,
      );
      expect(msg).toMatch(/is absolute/);
    },
  },
  {
    name: "refuses a file written through a symlink that points outside the layer",
    check: async (run) => {
      const tar = makeTar([
        { name: "link", type: "symlink", linkname: outside },
        { name: "link/evil", data: "pwned" },
      ]);
      expect(await refused(tar, "UnsafeLayerEntry", OVERLAY, run)).toMatch(/goes through the symlink "link"/);
    },
  },
  {
    name: "refuses a file written through a relative symlink made earlier in the same layer",
    check: async (run) => {
      const tar = makeTar([
        { name: "etc", type: "dir" },
        { name: "etc/up", type: "symlink", linkname: "../../outside" },
        { name: "etc/other", data: "x" },
        { name: "etc/up/secret", data: "pwned" },
      ]);
      expect(await refused(tar, "UnsafeLayerEntry", OVERLAY, run)).toMatch(/symlink "etc\/up"/);
    },
  },
  {
    name: "refuses a file written through a chain of symlinks that ends outside",
    check: async (run) => {
      const tar = makeTar([
        { name: "a", type: "symlink", linkname: "b" },
        { name: "b", type: "symlink", linkname: "c" },
        { name: "c", type: "symlink", linkname: outside },
        { name: "a/dir/file", data: "pwned" },
      ]);
      expect(await refused(tar, "UnsafeLayerEntry", OVERLAY, run)).toMatch(/symlink "a"/);
    },
  },
  {
    name: "refuses a hardlink through a symlink that climbs out with ..",
    check: async (run) => {
      const tar = makeTar([
        { name: "esc", type: "symlink", linkname: ".." },
        { name: "stolen", type: "hardlink", linkname: "esc/outside/secret" },
      ]);
      expect(await refused(tar, "UnsafeLayerEntry", OVERLAY, run)).toMatch(/goes through the symlink "esc"/);
      expect(lstatSync(join(outside, "secret")).nlink).toBe(1);
    },
  },
  {
    name: "refuses a hardlink whose target is outside (../../etc/passwd) or absolute",
    check: async (run) => {
      for (const linkname of ["../outside/secret", "a/../../outside/secret", join(outside, "secret")]) {
        const tar = makeTar([
          { name: "a", type: "dir" },
          { name: "stolen", type: "hardlink", linkname },
        ]);
        expect(await refused(tar, "UnsafeLayerEntry", OVERLAY, run)).toMatch(
          /hardlink target .*(leaves|absolute)/,
        );
        resetDest();
      }
    },
  },
  {
    name: "refuses a file inside a directory that a later entry replaced with a symlink to outside",
    check: async (run) => {
      const tar = makeTar([
        { name: "d", type: "dir", mode: 0o777 },
        { name: "d/ok", data: "fine" },
        { name: "d", type: "symlink", linkname: outside },
        { name: "d/evil", data: "pwned" },
      ]);
      expect(await refused(tar, "UnsafeLayerEntry", OVERLAY, run)).toMatch(/symlink "d"/);
    },
  },
];

// ------------------------------------------------------------ as root here

describe("hostile layers, unpacked by this process (root)", () => {
  beforeEach(makeDirs);
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  for (const c of cases) it(c.name, () => c.check(inProcess));

  it("refuses a long PAX path that climbs out of the layer", async () => {
    const name = `${"a/".repeat(60)}${"../".repeat(61)}outside/evil`;
    expect(await refused(makeTar([{ name, data: "pwned" }]), "UnsafeLayerEntry")).toMatch(/leaves the layer/);
    const pax = makeTar([{ name: "harmless", data: "pwned", pax: { path: "../outside/evil" } }]);
    expect(await refused(pax, "UnsafeLayerEntry")).toMatch(/leaves the layer/);
  });

  it("refuses a PAX header over 1 MiB rather than falling back to the name in the ustar header", async () => {
    const tar = makeTar([{ name: "innocent", data: "x", pax: { comment: "c".repeat(1100 * 1024) } }]);
    expect(await refused(tar, "CorruptLayer")).toMatch(/ExtendedHeader header/);
    expect(readdirSync(dest)).toEqual([]);
  });

  it("refuses a GNU long name that climbs out of the layer", async () => {
    const name = `${"b/".repeat(60)}${"../".repeat(61)}outside/evil`;
    const tar = makeTar([{ name, data: "pwned" }], { format: "gnu" });
    expect(await refused(tar, "UnsafeLayerEntry")).toMatch(/leaves the layer/);
  });

  it("refuses a file written through a symlink that points inside the layer (no tar needs one)", async () => {
    const tar = makeTar([
      { name: "real", type: "dir" },
      { name: "alias", type: "symlink", linkname: "real" },
      { name: "alias/file", data: "x" },
    ]);
    expect(await refused(tar, "UnsafeLayerEntry")).toMatch(/symlink "alias"/);
  });

  it("refuses a hardlink to a path through a symlink, even one inside the layer", async () => {
    const tar = makeTar([
      { name: "d/f", data: "target" },
      { name: "s", type: "symlink", linkname: "d" },
      { name: "h", type: "hardlink", linkname: "s/f" },
    ]);
    expect(await refused(tar, "UnsafeLayerEntry")).toMatch(/hardlink "h" goes through the symlink "s"/);
  });

  it("refuses an entry that would replace the layer root (. as a symlink, a file or a hardlink)", async () => {
    for (const entry of [
      { name: ".", type: "symlink", linkname: outside },
      { name: "./", type: "symlink", linkname: outside },
      { name: ".", data: "a file" },
      { name: ".", type: "fifo" },
      { name: ".", type: "char", devmajor: 1, devminor: 3 },
    ] as TarEntry[]) {
      const tar = makeTar([{ name: "f", data: "x" }, entry]);
      expect(await refused(tar, "UnsafeLayerEntry")).toMatch(/would replace the layer root/);
      resetDest();
    }
    const link = makeTar([
      { name: "f", data: "x" },
      { name: ".", type: "hardlink", linkname: "f" },
    ]);
    expect(await refused(link, "UnsafeLayerEntry")).toMatch(/would replace the layer root/);
  });

  it("refuses whiteouts that name their own directory or climb out (.wh.., .wh..., ../.wh.x)", async () => {
    for (const opts of [OVERLAY, KEEP])
      for (const name of ["d/.wh..", "d/.wh...", "../.wh.outside", "d/../../.wh.outside"]) {
        const tar = makeTar([{ name: "d/f", data: "x" }, { name }]);
        expect(await refused(tar, "UnsafeLayerEntry", opts)).toMatch(/whiteout .* names|leaves the layer/);
        resetDest();
      }
  });

  it("refuses a whiteout or an opaque marker placed through a symlink to outside", async () => {
    for (const name of ["link/.wh.secret", "link/.wh..wh..opq"]) {
      const tar = makeTar([{ name: "link", type: "symlink", linkname: outside }, { name }]);
      expect(await refused(tar, "UnsafeLayerEntry")).toMatch(/symlink "link"/);
      resetDest();
    }
    expect(existsSync(join(outside, "secret"))).toBe(true);
  });

  it("refuses an entry whose size header is over maxEntryBytes, before reading its data", async () => {
    const tar = makeTar([{ name: "huge", size: 2 ** 40 }]);
    const msg = await refused(tar, "LayerTooBig", { ...OVERLAY, maxEntryBytes: 1024 * 1024 });
    expect(msg).toBe(`entry "huge" is ${2 ** 40} bytes, over the limit of 1048576`);
    expect(readdirSync(dest)).toEqual([]);
    // Without a limit, the data that is not there makes it a truncated tar.
    expect(await refused(tar, "CorruptLayer")).toMatch(/Truncated|ends inside/);
  });

  it("refuses a layer that unpacks to more than maxTotalBytes", async () => {
    const tar = makeTar([
      { name: "a", data: "x".repeat(600) },
      { name: "b", data: "x".repeat(600) },
    ]);
    expect(await refused(tar, "LayerTooBig", { ...OVERLAY, maxTotalBytes: 1000 })).toMatch(
      /more than the limit of 1000/,
    );
  });

  it("reports a tar cut off inside a file's data as CorruptLayer, plain or gzip", async () => {
    const entries = [
      { name: "a", data: "a" },
      { name: "cut", data: "y".repeat(5000) },
    ];
    expect(await refused(makeTar(entries, { cut: 2048 + 1000 }), "CorruptLayer")).toMatch(
      /Truncated|ends inside/,
    );
    resetDest();
    const gz = makeTar(entries, { cut: 2048 + 1000, gzip: true });
    expect(await refused(gz, "CorruptLayer")).toMatch(/Truncated|ends inside/);
    resetDest();
    // A gzip stream cut short is broken gzip, whatever the tar inside.
    const whole = gzipSync(makeTar(entries));
    expect(await refused(whole.subarray(0, whole.length - 20), "CorruptLayer")).toMatch(/gzip/);
  });

  it("reports a tar cut off inside a header as CorruptLayer", async () => {
    const tar = makeTar([
      { name: "a", data: "a" },
      { name: "b", data: "b" },
    ]);
    expect(await refused(tar.subarray(0, 1024 + 300), "CorruptLayer")).toMatch(/inside a tar header/);
  });

  it("reports non-tar input, broken gzip, zstd and double compression as CorruptLayer", async () => {
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256));
    const inputs: [Buffer, RegExp][] = [
      [random, /not a valid tar|not a tar/],
      [Buffer.from("just some text, certainly not a tar archive\n".repeat(40)), /not a valid tar|not a tar/],
      [Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), random]), /gzip/],
      [gzipSync(random), /not a valid tar|not a tar/],
      [Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), random]), /zstd/],
      [gzipSync(gzipSync(makeTar([{ name: "a", data: "a" }]))), /compressed twice/],
      [Buffer.from([0x1f]), /inside a tar header/],
    ];
    for (const [input, message] of inputs) {
      expect(await refused(input, "CorruptLayer")).toMatch(message);
      resetDest();
    }
  });

  it("neutralises device nodes (char and block): skipped, they cannot be created rootless", async () => {
    const r = await neutralised(
      makeTar([
        { name: "dev/null", type: "char", devmajor: 1, devminor: 3 },
        { name: "dev/sda", type: "block", devmajor: 8, devminor: 0 },
        { name: "dev/whiteout-lookalike", type: "char", devmajor: 0, devminor: 0 },
        { name: "dev/ok", data: "still here" },
      ]),
    );
    expect(r.skipped).toEqual([
      { path: "dev/null", reason: "device nodes cannot be created rootless" },
      { path: "dev/sda", reason: "device nodes cannot be created rootless" },
      { path: "dev/whiteout-lookalike", reason: "device nodes cannot be created rootless" },
    ]);
    expect(readdirSync(inLayer("dev"))).toEqual(["ok"]);
  });

  it("neutralises a file over a symlink to outside: the link is replaced, not written through", async () => {
    const r = await neutralised(
      makeTar([
        { name: "link", type: "symlink", linkname: join(outside, "secret") },
        { name: "link", data: "replaced", mode: 0o4777 },
      ]),
    );
    expect(r.skipped).toEqual([]);
    expect(readFileSync(inLayer("link"), "utf8")).toBe("replaced");
    expect(lstatSync(inLayer("link")).mode & 0o7777).toBe(0o4777);
  });

  it("neutralises a directory over a symlink to outside: no mode, owner or time lands through it", async () => {
    await neutralised(
      makeTar([
        { name: "link", type: "symlink", linkname: outside },
        { name: "link", type: "dir", mode: 0o777, uid: 1234, gid: 1234, pax: { "SCHILY.xattr.user.x": "1" } },
      ]),
    );
    expect(lstatSync(inLayer("link")).isDirectory()).toBe(true);
    expect(lstatSync(inLayer("link")).uid).toBe(1234);
  });

  it("neutralises a directory later replaced by a symlink to outside: its mode is not applied through the link", async () => {
    await neutralised(
      makeTar([
        { name: "d", type: "dir", mode: 0o777, uid: 1234, gid: 1234 },
        { name: "d/inner", type: "dir", mode: 0o777 },
        { name: "d", type: "symlink", linkname: outside },
        { name: "e", type: "symlink", linkname: join(outside, "dir") },
      ]),
    );
    expect(readlinkSync(inLayer("d"))).toBe(outside);
  });

  it("neutralises a hardlink to a symlink that points outside: it links the symlink, not its target", async () => {
    await neutralised(
      makeTar([
        { name: "link", type: "symlink", linkname: join(outside, "secret") },
        { name: "hard", type: "hardlink", linkname: "link" },
      ]),
    );
    expect(lstatSync(inLayer("hard")).isSymbolicLink()).toBe(true);
    expect(lstatSync(inLayer("hard")).ino).toBe(lstatSync(inLayer("link")).ino);
    expect(lstatSync(join(outside, "secret")).nlink).toBe(1);
  });

  it("neutralises symlinks with absolute or climbing targets: stored verbatim, never followed", async () => {
    await neutralised(
      makeTar([
        { name: "abs", type: "symlink", linkname: join(outside, "secret"), uid: 1000 },
        { name: "climb", type: "symlink", linkname: "../../../../../../outside/secret" },
        { name: "abs-dir", type: "symlink", linkname: outside, pax: { "SCHILY.xattr.user.x": "1" } },
      ]),
    );
    expect(readlinkSync(inLayer("abs"))).toBe(join(outside, "secret"));
    expect(readlinkSync(inLayer("climb"))).toBe("../../../../../../outside/secret");
  });

  it("neutralises overlay and fuse-overlayfs metadata in the layer's xattrs: skipped, never set", async () => {
    const r = await neutralised(
      makeTar([
        {
          name: "f",
          data: "x",
          uid: 1000,
          pax: {
            "SCHILY.xattr.user.containers.override_stat": "0:0:4755",
            "SCHILY.xattr.user.overlay.redirect": "/etc",
            "SCHILY.xattr.trusted.overlay.opaque": "y",
            "SCHILY.xattr.user.x": "allowed",
          },
        },
      ]),
      { whiteouts: "overlay", preserveOwner: false },
    );
    expect(r.skipped.map((s) => s.reason.split(":")[0])).toEqual([
      "xattr user.containers.override_stat",
      "xattr user.overlay.redirect",
      "xattr trusted.overlay.opaque",
    ]);
    // Ours, from the tar's real owner, not the forged one.
    const stat = await lgetxattr(inLayer("f"), "user.containers.override_stat");
    expect(E.isRight(stat) && stat.right.toString()).toBe("1000:0:0644");
    expect(E.isLeft(await lgetxattr(inLayer("f"), "user.overlay.redirect"))).toBe(true);
  });

  it("neutralises names that are not UTF-8: skipped rather than written under an invented name", async () => {
    const tar = makeTar([{ name: "ok", data: "fine" }], { format: "ustar" });
    // Patch a byte of the name "ok" to 0xff and fix the header checksum.
    const bad = Buffer.from(tar);
    bad[1] = 0xff;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (bad[i] ?? 0);
    bad.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    const r = await neutralised(bad);
    expect(r.skipped).toEqual([{ path: "o\uFFFD", reason: "name or link target is not valid UTF-8" }]);
    expect(readdirSync(dest)).toEqual([]);
  });

  it("neutralises xattr values that are not UTF-8: skipped and listed (node-tar decodes PAX headers as text)", async () => {
    const r = await neutralised(
      makeTar([
        {
          name: "f",
          data: "x",
          pax_b64: { "SCHILY.xattr.user.bin": Buffer.from([0xff, 0x00]).toString("base64") },
        },
      ]),
    );
    expect(r.skipped).toEqual([
      { path: "f", reason: "extended attributes not applied: the PAX header is not valid UTF-8" },
    ]);
    expect(E.isLeft(await lgetxattr(inLayer("f"), "user.bin"))).toBe(true);
    expect(readFileSync(inLayer("f"), "utf8")).toBe("x");
  });

  it("neutralises aufs metadata (.wh..wh.plnk) and empty whiteout names: skipped", async () => {
    const r = await neutralised(
      makeTar([
        { name: ".wh..wh.plnk", type: "dir" },
        { name: ".wh..wh.plnk/123.456", data: "x" },
        { name: "d/.wh.", data: "" },
        { name: "d/f", data: "kept" },
      ]),
    );
    // Listed under their names in the tar (node-tar keeps a directory's trailing slash).
    expect(r.skipped.map((s) => s.path)).toEqual([".wh..wh.plnk/", ".wh..wh.plnk/123.456", "d/.wh."]);
    expect(readdirSync(dest)).toEqual(["d"]);
  });
});

// ------------------------------------------------------------ as other users

const NOOK = join(REPO, "dist", "nook");
const NOOK_SUB_UID = 1001;

/** Why the cross-user runs cannot happen on this host, or undefined when they can. */
const crossUserSkip = (): string | undefined => {
  if (process.getuid?.() !== 0) return "not root: cannot runuser to the test users";
  if (!existsSync(NOOK)) return `${NOOK} is not built (npm run build)`;
  for (const u of ["nook-sub", "nook-nosub"])
    if (spawnSync("id", ["-u", u]).status !== 0)
      return `test user ${u} does not exist (scripts/provision.sh)`;
  if (spawnSync("runuser", ["--help"]).error) return "runuser is not installed";
  return undefined;
};

const skipWhy = crossUserSkip();
if (skipWhy) console.warn(`hostile-layers: skipping the runs as nook-sub and nook-nosub: ${skipWhy}`);

describe.skipIf(skipWhy !== undefined)("hostile layers, unpacked as other users", () => {
  let runDir: string;

  // The unpacker bundled into one script the test users can run: it reads the
  // tar on stdin and prints the Either as JSON.
  beforeAll(async () => {
    runDir = mkdtempSync(join(tmpdir(), "nook-unpack-runner-"));
    chmodSync(runDir, 0o755);
    symlinkSync(join(REPO, "node_modules"), join(runDir, "node_modules"));
    writeFileSync(
      join(runDir, "run.ts"),
      `import { unpackLayer } from ${JSON.stringify(UNPACK_TS)};
const r = await unpackLayer(process.stdin, process.argv[2]!, JSON.parse(process.argv[3]!));
process.stdout.write(JSON.stringify(r));
`,
    );
    const { build } = await import("esbuild");
    await build({
      entryPoints: [join(runDir, "run.ts")],
      outfile: join(runDir, "run.mjs"),
      bundle: true,
      platform: "node",
      format: "esm",
      external: ["koffi", "tar"],
      logLevel: "error",
    });
  }, 60_000);
  afterAll(() => rmSync(runDir, { recursive: true, force: true }));

  const runAs =
    (argv: (script: string, dest: string, opts: string) => string[]): Unpacker =>
    async (tar, opts) => {
      const [cmd, ...args] = argv(join(runDir, "run.mjs"), dest, JSON.stringify(opts));
      for (let attempt = 1; ; attempt++) {
        const p = spawnSync(cmd!, args, { input: tar, cwd: "/tmp", timeout: 60_000 });
        if (p.status === 0) return JSON.parse(p.stdout.toString()) as E.Either<UnpackError, UnpackResult>;
        // dist/ half rebuilt by a concurrent `npm run build`: nook did not start, try again.
        if (attempt < 5 && p.stdout.length === 0 && /ERR_MODULE_NOT_FOUND/.test(p.stderr.toString())) {
          await new Promise((r) => setTimeout(r, 2000));
          continue;
        }
        throw new Error(`${cmd} ${args.join(" ")}: exit ${p.status}: ${p.stderr}`);
      }
    };

  /** As root of nook-sub's user namespace, the way nook runs the unpacker. */
  const inUserns = runAs((script, d, o) => [
    "runuser",
    "-u",
    "nook-sub",
    "--",
    "node",
    NOOK,
    "unshare",
    "node",
    script,
    d,
    o,
  ]);
  /** As a plain user with no namespace and no privilege at all. */
  const asNosub = runAs((script, d, o) => ["runuser", "-u", "nook-nosub", "--", "node", script, d, o]);

  const ownDirs = (uid: number): void => {
    makeDirs();
    for (const p of [
      base,
      dest,
      outside,
      join(outside, "dir"),
      join(outside, "secret"),
      join(outside, "dir", "file"),
    ])
      chownSync(p, uid, uid);
  };

  describe("as root of nook-sub's user namespace (the sentinel is writable by nook-sub)", () => {
    beforeEach(() => ownDirs(NOOK_SUB_UID));
    afterEach(() => rmSync(base, { recursive: true, force: true }));

    for (const c of cases) it(c.name, () => c.check(inUserns), 60_000);

    it("puts the tar's owners on nook-sub's subordinate ids, with exact modes and overlay whiteouts", async () => {
      const r = await neutralised(
        makeTar([
          { name: "app", type: "dir", mode: 0o750, uid: 1000, gid: 1000 },
          { name: "app/setuid", data: "x", mode: 0o4755, uid: 0, gid: 1 },
          { name: "app/.wh.gone" },
          // A hard link to a file of another (mapped) owner: protected_hardlinks lets namespace root do it.
          { name: "app/private", data: "p", mode: 0o600, uid: 1000, gid: 1000 },
          { name: "app/private-link", type: "hardlink", linkname: "app/private" },
          { name: "app/dev", type: "char", devmajor: 1, devminor: 3 },
        ]),
        OVERLAY,
        inUserns,
      );
      expect(r.skipped).toEqual([{ path: "app/dev", reason: "device nodes cannot be created rootless" }]);
      // Namespace uid 1000 is host uid 100000 + 1000 - 1; namespace 0 is nook-sub itself.
      expect([lstatSync(inLayer("app")).uid, lstatSync(inLayer("app")).mode & 0o7777]).toEqual([
        100999, 0o750,
      ]);
      const s = lstatSync(inLayer("app/setuid"));
      expect([s.uid, s.gid, s.mode & 0o7777]).toEqual([NOOK_SUB_UID, 100000, 0o4755]);
      expect(lstatSync(inLayer("app/gone")).isCharacterDevice()).toBe(true);
      expect(lstatSync(inLayer("app/private-link")).ino).toBe(lstatSync(inLayer("app/private")).ino);
    }, 60_000);
  });

  describe("as nook-nosub, with no namespace (keep whiteouts, owners in override_stat)", () => {
    const NOSUB = Number(execFileSync("id", ["-u", "nook-nosub"]).toString());
    beforeEach(() => ownDirs(NOSUB));
    afterEach(() => rmSync(base, { recursive: true, force: true }));

    const NOSUB_OPTS: UnpackOptions = { whiteouts: "keep", preserveOwner: false };

    it("refuses the core escapes: ../, a symlink on the way, a hardlink out", async () => {
      for (const tar of [
        makeTar([{ name: "../outside/evil", data: "pwned" }]),
        makeTar([
          { name: "link", type: "symlink", linkname: outside },
          { name: "link/evil", data: "pwned" },
        ]),
        makeTar([{ name: "stolen", type: "hardlink", linkname: "../outside/secret" }]),
      ]) {
        await refused(tar, "UnsafeLayerEntry", NOSUB_OPTS, asNosub);
        resetDest();
      }
    }, 60_000);

    it("unpacks into read-only directories and records the owners it cannot keep", async () => {
      await neutralised(
        makeTar([
          { name: "ro", type: "dir", mode: 0o555, uid: 1000, gid: 1000 },
          { name: "ro/file", data: "x", mode: 0o400, uid: 1000, gid: 1000 },
          { name: "ro/.wh.gone" },
        ]),
        NOSUB_OPTS,
        asNosub,
      );
      const ro = lstatSync(inLayer("ro"));
      expect([ro.uid, ro.mode & 0o7777]).toEqual([NOSUB, 0o555]);
      expect(lstatSync(inLayer("ro/file")).mode & 0o7777).toBe(0o400);
      expect(lstatSync(inLayer("ro/.wh.gone")).isFile()).toBe(true);
      const dirStat = await lgetxattr(inLayer("ro"), "user.containers.override_stat");
      expect(E.isRight(dirStat) && dirStat.right.toString()).toBe("1000:1000:0555");
      const fileStat = await lgetxattr(inLayer("ro/file"), "user.containers.override_stat");
      expect(E.isRight(fileStat) && fileStat.right.toString()).toBe("1000:1000:0400");
    }, 60_000);
  });
});
