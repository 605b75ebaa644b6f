import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import type { Digest } from "../../../src/image/digest.js";
import type { Descriptor, ImageIndex } from "../../../src/image/manifest.js";
import {
  type Platform,
  formatPlatform,
  hostPlatform,
  parsePlatform,
  selectManifest,
} from "../../../src/image/platform.js";

const REF = "docker.io/library/x:latest";

const entry = (digit: string, platform?: Platform, annotations?: Record<string, string>): Descriptor => ({
  mediaType: "application/vnd.docker.distribution.manifest.v2+json",
  digest: `sha256:${digit.repeat(64)}` as Digest,
  size: 528,
  ...(platform === undefined ? {} : { platform }),
  ...(annotations === undefined ? {} : { annotations }),
});

const indexOf = (...manifests: Descriptor[]): ImageIndex => ({
  schemaVersion: 2,
  mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
  manifests,
});

const p = (s: string): Platform => {
  const r = parsePlatform(s);
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

/** The digit of the chosen entry, or the error message. */
const pick = (index: ImageIndex, want: string): string => {
  const r = selectManifest(index, p(want), REF);
  return E.isRight(r) ? r.right.digest.slice("sha256:".length, "sha256:".length + 1) : r.left.message;
};

// A Docker manifest list as buildx pushes it: five platforms and a
// provenance attestation for the first.
const dockerList = indexOf(
  entry("a", { os: "linux", architecture: "amd64" }),
  entry("b", { os: "linux", architecture: "arm", variant: "v6" }),
  entry("c", { os: "linux", architecture: "arm", variant: "v7" }),
  entry("d", { os: "linux", architecture: "arm64", variant: "v8" }),
  entry("e", { os: "linux", architecture: "386" }),
  entry(
    "f",
    { os: "unknown", architecture: "unknown" },
    {
      "vnd.docker.reference.digest": `sha256:${"a".repeat(64)}`,
      "vnd.docker.reference.type": "attestation-manifest",
    },
  ),
);

describe("formatPlatform", () => {
  it.each([
    [{ os: "linux", architecture: "arm64", variant: "v8" }, "linux/arm64/v8"],
    [{ os: "linux", architecture: "amd64" }, "linux/amd64"],
    [{ os: "linux", architecture: "amd64", variant: "" }, "linux/amd64"],
    [{ os: "windows", architecture: "amd64", "os.version": "10.0.17763" }, "windows/amd64"],
  ])("%o -> %s", (platform, s) => {
    expect(formatPlatform(platform)).toBe(s);
  });
});

describe("hostPlatform", () => {
  it.each([
    ["x64", { os: "linux", architecture: "amd64" }],
    ["ia32", { os: "linux", architecture: "386" }],
    ["arm64", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["ppc64", { os: "linux", architecture: "ppc64le" }],
    ["s390x", { os: "linux", architecture: "s390x" }],
    ["riscv64", { os: "linux", architecture: "riscv64" }],
    ["loong64", { os: "linux", architecture: "loong64" }],
    ["mipsel", { os: "linux", architecture: "mipsle" }],
    ["sparc", { os: "linux", architecture: "sparc" }],
  ])("maps Node's %s", (arch, platform) => {
    expect(hostPlatform(arch)).toEqual(platform);
  });

  it("takes the arm variant from the hint, in either spelling", () => {
    expect(hostPlatform("arm", "6")).toEqual({ os: "linux", architecture: "arm", variant: "v6" });
    expect(hostPlatform("arm", "v5")).toEqual({ os: "linux", architecture: "arm", variant: "v5" });
  });

  it("falls back to Node's arm build target, else v7", () => {
    const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
    const expected = armVersion === undefined ? "v7" : `v${String(armVersion)}`;
    expect(hostPlatform("arm")).toEqual({ os: "linux", architecture: "arm", variant: expected });
  });

  it("takes a hint for other architectures too", () => {
    expect(hostPlatform("arm64", "v9")).toEqual({ os: "linux", architecture: "arm64", variant: "v9" });
    expect(hostPlatform("x64", "v3")).toEqual({ os: "linux", architecture: "amd64", variant: "v3" });
  });

  it("describes this machine by default", () => {
    expect(hostPlatform()).toEqual(hostPlatform(process.arch));
  });
});

describe("parsePlatform", () => {
  it.each([
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/arm64", { os: "linux", architecture: "arm64" }],
    ["linux/arm/7", { os: "linux", architecture: "arm", variant: "v7" }],
    ["linux/arm/v6", { os: "linux", architecture: "arm", variant: "v6" }],
    ["LINUX/AMD64", { os: "linux", architecture: "amd64" }],
    [" linux/riscv64 ", { os: "linux", architecture: "riscv64" }],
    ["linux/x86_64", { os: "linux", architecture: "amd64" }],
    ["linux/aarch64", { os: "linux", architecture: "arm64" }],
    ["linux/aarch64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/armhf", { os: "linux", architecture: "arm", variant: "v7" }],
    ["linux/armhf/v7", { os: "linux", architecture: "arm", variant: "v7" }],
    ["linux/armel", { os: "linux", architecture: "arm", variant: "v6" }],
    ["linux/i386", { os: "linux", architecture: "386" }],
    ["windows/amd64", { os: "windows", architecture: "amd64" }],
  ])("%s", (s, platform) => {
    expect(parsePlatform(s)).toEqual(E.right(platform));
  });

  it.each([
    ["amd64", 'invalid platform "amd64": expected os/arch or os/arch/variant, e.g. linux/amd64'],
    ["arm64", 'invalid platform "arm64": expected os/arch or os/arch/variant, e.g. linux/arm64'],
    ["", 'invalid platform "": expected os/arch or os/arch/variant, e.g. linux/amd64'],
    ["linux/", 'invalid platform "linux/": expected os/arch or os/arch/variant, e.g. linux/amd64'],
    ["linux//v7", 'invalid platform "linux//v7": expected os/arch or os/arch/variant, e.g. linux/amd64'],
    [
      "linux/arm/v7/extra",
      'invalid platform "linux/arm/v7/extra": expected os/arch or os/arch/variant, e.g. linux/amd64',
    ],
    [
      "linux/amd 64",
      'invalid platform "linux/amd 64": expected os/arch or os/arch/variant, e.g. linux/amd64',
    ],
    ["linux/armhf/v6", 'invalid platform "linux/armhf/v6": armhf means arm/v7, not arm/v6'],
    ["linux/armel/7", 'invalid platform "linux/armel/7": armel means arm/v6, not arm/v7'],
  ])("rejects %j", (s, expected) => {
    expect(parsePlatform(s)).toEqual(E.left({ _tag: "InvalidPlatform", message: expected }));
  });
});

describe("selectManifest", () => {
  it.each([
    ["linux/amd64", "a"],
    ["linux/x86_64", "a"],
    ["linux/arm/v6", "b"],
    ["linux/armel", "b"],
    ["linux/arm/v7", "c"],
    ["linux/arm", "c"],
    // 32-bit arm on an ARMv8 CPU runs v7 code: the newest generation below it.
    ["linux/arm/v8", "c"],
    ["linux/arm64/v8", "d"],
    ["linux/arm64", "d"],
    ["linux/386", "e"],
  ])("picks %s from a Docker manifest list: %s", (want, digit) => {
    expect(pick(dockerList, want)).toBe(digit);
  });

  it("finds nothing older than the oldest arm variant", () => {
    expect(pick(dockerList, "linux/arm/v5")).toBe(
      `no image for linux/arm/v5 in ${REF} (it has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/386)`,
    );
  });

  it("lists what the index has when nothing matches, leaving out attestations", () => {
    const index = indexOf(
      entry("a", { os: "linux", architecture: "amd64" }),
      entry("e", { os: "linux", architecture: "386" }),
      entry("f", { os: "unknown", architecture: "unknown" }),
    );
    expect(selectManifest(index, { os: "linux", architecture: "arm64", variant: "v8" }, REF)).toEqual(
      E.left({
        _tag: "NoMatchingPlatform",
        message: "no image for linux/arm64/v8 in docker.io/library/x:latest (it has linux/amd64, linux/386)",
      }),
    );
  });

  it("leaves the image out of the message when it has no name", () => {
    expect(selectManifest(dockerList, p("linux/s390x"))).toEqual(
      E.left({
        _tag: "NoMatchingPlatform",
        message:
          "no image for linux/s390x (it has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/386)",
      }),
    );
  });

  it("requires the os", () => {
    expect(pick(dockerList, "windows/amd64")).toMatch(/^no image for windows\/amd64 in /);
  });

  it("treats arm64 without a variant as v8, and prefers the spelling asked for", () => {
    const bare = indexOf(entry("1", { os: "linux", architecture: "arm64" }));
    expect(pick(bare, "linux/arm64/v8")).toBe("1");
    const both = indexOf(
      entry("1", { os: "linux", architecture: "arm64" }),
      entry("2", { os: "linux", architecture: "arm64", variant: "v8" }),
    );
    expect(pick(both, "linux/arm64/v8")).toBe("2");
    expect(pick(both, "linux/arm64")).toBe("1");
  });

  it("runs arm64 v8 images on a v9 or v8.2 CPU", () => {
    const index = indexOf(
      entry("1", { os: "linux", architecture: "arm64" }),
      entry("2", { os: "linux", architecture: "arm64", variant: "v8.2" }),
    );
    expect(pick(index, "linux/arm64/v9")).toBe("2");
    expect(pick(index, "linux/arm64/v8.2")).toBe("2");
    expect(pick(index, "linux/arm64/v8.1")).toBe("1");
  });

  it("does not run a newer arm64 variant on v8", () => {
    const v9 = indexOf(entry("1", { os: "linux", architecture: "arm64", variant: "v9" }));
    expect(pick(v9, "linux/arm64/v8")).toBe(`no image for linux/arm64/v8 in ${REF} (it has linux/arm64/v9)`);
  });

  it("takes the newest older arm variant, whatever the index order", () => {
    const index = indexOf(
      entry("5", { os: "linux", architecture: "arm", variant: "v5" }),
      entry("6", { os: "linux", architecture: "arm", variant: "v6" }),
    );
    expect(pick(index, "linux/arm/v7")).toBe("6");
    expect(pick(index, "linux/arm/v6")).toBe("6");
    expect(pick(index, "linux/arm/v5")).toBe("5");
  });

  it("treats arm without a variant as v7", () => {
    const index = indexOf(entry("1", { os: "linux", architecture: "arm" }));
    expect(pick(index, "linux/arm/v7")).toBe("1");
    expect(pick(index, "linux/arm/v8")).toBe("1");
    expect(pick(index, "linux/arm/v6")).toBe(`no image for linux/arm/v6 in ${REF} (it has linux/arm)`);
  });

  it("never runs a newer arm variant on an older CPU", () => {
    const index = indexOf(entry("1", { os: "linux", architecture: "arm", variant: "v7" }));
    expect(pick(index, "linux/arm/v6")).toBe(`no image for linux/arm/v6 in ${REF} (it has linux/arm/v7)`);
  });

  it("orders amd64 microarchitecture levels the same way", () => {
    const index = indexOf(
      entry("1", { os: "linux", architecture: "amd64" }),
      entry("3", { os: "linux", architecture: "amd64", variant: "v3" }),
    );
    expect(pick(index, "linux/amd64")).toBe("1");
    expect(pick(index, "linux/amd64/v3")).toBe("3");
    expect(pick(index, "linux/amd64/v4")).toBe("3");
    expect(
      pick(indexOf(entry("3", { os: "linux", architecture: "amd64", variant: "v3" })), "linux/amd64"),
    ).toBe(`no image for linux/amd64 in ${REF} (it has linux/amd64/v3)`);
  });

  it("matches index entries written with aliases", () => {
    expect(pick(indexOf(entry("1", { os: "linux", architecture: "aarch64" })), "linux/arm64")).toBe("1");
    expect(pick(indexOf(entry("1", { os: "linux", architecture: "x86_64" })), "linux/amd64")).toBe("1");
  });

  it("takes the first of equal entries", () => {
    const index = indexOf(
      entry("1", { os: "linux", architecture: "amd64" }),
      entry("2", { os: "linux", architecture: "amd64" }),
    );
    expect(pick(index, "linux/amd64")).toBe("1");
  });

  it("skips entries without a platform", () => {
    const index = indexOf(entry("1"), entry("2", { os: "linux", architecture: "amd64" }));
    expect(pick(index, "linux/amd64")).toBe("2");
    expect(pick(indexOf(entry("1")), "linux/amd64")).toBe(
      `no image for linux/amd64 in ${REF} (it names no platforms)`,
    );
  });

  it("never picks an attestation, even one that names a real platform", () => {
    const index = indexOf(
      entry(
        "1",
        { os: "linux", architecture: "arm64" },
        { "vnd.docker.reference.type": "attestation-manifest" },
      ),
      entry("2", { os: "unknown", architecture: "unknown" }),
    );
    expect(pick(index, "linux/arm64")).toBe(`no image for linux/arm64 in ${REF} (it names no platforms)`);
  });

  it("lists each platform once", () => {
    const index = indexOf(
      entry("1", { os: "linux", architecture: "amd64" }),
      entry("2", { os: "linux", architecture: "amd64" }),
    );
    expect(pick(index, "linux/386")).toBe(`no image for linux/386 in ${REF} (it has linux/amd64)`);
  });
});
