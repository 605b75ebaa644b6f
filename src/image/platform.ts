// Platforms: the host's, the one --platform names, and the pick from an index.
// Names and matching follow containerd's platforms package (the de facto
// rules behind `docker pull --platform`): GOARCH names, arm64 without a
// variant is v8, arm without a variant is v7, and an arm CPU runs the older
// arm variants too.
import * as E from "fp-ts/lib/Either.js";
import type { Descriptor, ImageIndex, Platform } from "./manifest.js";

export type { Platform } from "./manifest.js";

export interface InvalidPlatform {
  readonly _tag: "InvalidPlatform";
  readonly message: string;
}

export interface NoMatchingPlatform {
  readonly _tag: "NoMatchingPlatform";
  readonly message: string;
}

export type PlatformError = InvalidPlatform | NoMatchingPlatform;

/** "linux/arm64/v8", "linux/amd64". */
export const formatPlatform = (p: Pick<Platform, "os" | "architecture" | "variant">): string =>
  p.variant === undefined || p.variant === ""
    ? `${p.os}/${p.architecture}`
    : `${p.os}/${p.architecture}/${p.variant}`;

// Node's process.arch names -> the GOARCH names images use (image-index.md,
// "platform": "values SHOULD conform to ... GOARCH"). Node reports ppc64
// for the little-endian build, the only Linux one it ships.
const NODE_ARCH: Readonly<Record<string, string>> = {
  x64: "amd64",
  ia32: "386",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips: "mips",
  mipsel: "mipsle",
};

/** "7" and "v7" -> "v7"; "" -> absent. */
const normaliseVariant = (variant: string | undefined): string | undefined => {
  if (variant === undefined) return undefined;
  const v = variant.trim().toLowerCase();
  if (v === "") return undefined;
  return /^\d/.test(v) ? `v${v}` : v;
};

/** Node's own build target on 32-bit arm ("arm_version": "7" in config.gypi). */
const nodeArmVersion = (): string | undefined => {
  const variables = process.config.variables as Readonly<Record<string, unknown>>;
  const v = variables.arm_version;
  return typeof v === "string" || typeof v === "number" ? String(v) : undefined;
};

/**
 * The platform to pull for this machine. `variantHint` is what the caller
 * knows better than Node does (from /proc/cpuinfo, say); without it arm64 is
 * v8 and arm is Node's build target, else v7.
 */
export const hostPlatform = (arch: string = process.arch, variantHint?: string): Platform => {
  const architecture = NODE_ARCH[arch] ?? arch;
  const hinted = normaliseVariant(variantHint);
  const variant =
    architecture === "arm64"
      ? (hinted ?? "v8")
      : architecture === "arm"
        ? (hinted ?? normaliseVariant(nodeArmVersion()) ?? "v7")
        : hinted;
  return variant === undefined ? { os: "linux", architecture } : { os: "linux", architecture, variant };
};

interface ArchAlias {
  readonly architecture: string;
  readonly variant?: string;
}

// The names distributions and uname use for the same architectures
// (containerd platforms/database.go, normalizeArch).
const ARCH_ALIASES: Readonly<Record<string, ArchAlias>> = {
  x86_64: { architecture: "amd64" },
  "x86-64": { architecture: "amd64" },
  aarch64: { architecture: "arm64" },
  armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v6" },
  i386: { architecture: "386" },
  i686: { architecture: "386" },
};

const SEGMENT = /^[a-z0-9][a-z0-9._-]*$/;

/** `--platform os/arch[/variant]`, as Docker takes it; aliases become GOARCH names. */
export const parsePlatform = (s: string): E.Either<InvalidPlatform, Platform> => {
  const invalid = (why: string): E.Either<InvalidPlatform, Platform> =>
    E.left({ _tag: "InvalidPlatform", message: `invalid platform ${JSON.stringify(s)}: ${why}` });
  const parts = s.trim().toLowerCase().split("/");
  const [os, arch, variant, ...rest] = parts;
  if (os === undefined || arch === undefined || rest.length > 0 || !parts.every((p) => SEGMENT.test(p))) {
    const example =
      parts.length === 1 && os !== undefined && SEGMENT.test(os) ? `linux/${os}` : "linux/amd64";
    return invalid(`expected os/arch or os/arch/variant, e.g. ${example}`);
  }
  const alias = ARCH_ALIASES[arch];
  const architecture = alias?.architecture ?? arch;
  const given = normaliseVariant(variant);
  if (alias?.variant !== undefined && given !== undefined && given !== alias.variant)
    return invalid(`${arch} means ${architecture}/${alias.variant}, not ${architecture}/${given}`);
  const v = given ?? alias?.variant;
  return E.right(v === undefined ? { os, architecture } : { os, architecture, variant: v });
};

// Architectures whose variants are ordered generations: a CPU runs code built
// for its own generation and every older one (containerd platforms, the arm
// matcher; amd64 microarchitecture levels v1..v4 likewise). arm64 minor
// versions (v8.2) compare as numbers, which holds within v8 and v9 and is
// conservative across them.
const DEFAULT_VARIANT: Readonly<Record<string, string>> = { arm: "v7", arm64: "v8", amd64: "v1" };
const ORDERED_VARIANTS: ReadonlySet<string> = new Set(["arm", "arm64", "amd64"]);

const comparable = (p: Platform): { os: string; architecture: string; variant: string | undefined } => {
  const alias = ARCH_ALIASES[p.architecture.toLowerCase()];
  const architecture = alias?.architecture ?? p.architecture.toLowerCase();
  const variant = normaliseVariant(p.variant) ?? alias?.variant ?? DEFAULT_VARIANT[architecture];
  return { os: p.os.toLowerCase(), architecture, variant };
};

const generation = (variant: string | undefined): number | undefined => {
  const m = variant === undefined ? null : /^v(\d+(?:\.\d+)?)$/.exec(variant);
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

/**
 * How well an image built for `have` suits `want`: 0 is the very platform, 1
 * the same after normalising (arm64 and arm64/v8), more an older generation;
 * undefined when it cannot run.
 */
const distance = (want: Platform, have: Platform): number | undefined => {
  const w = comparable(want);
  const h = comparable(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return undefined;
  if (normaliseVariant(want.variant) === normaliseVariant(have.variant)) return 0;
  if (w.variant === h.variant) return 1;
  if (!ORDERED_VARIANTS.has(w.architecture)) return undefined;
  const wg = generation(w.variant);
  const hg = generation(h.variant);
  return wg !== undefined && hg !== undefined && hg < wg ? 1 + wg - hg : undefined;
};

// BuildKit puts provenance and SBOM attestations in the index as manifests
// for "unknown/unknown", annotated with the manifest they describe
// (buildkit docs/attestations/attestation-storage.md).
const isAttestation = (d: Descriptor): boolean =>
  d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" ||
  (d.platform?.os === "unknown" && d.platform.architecture === "unknown");

/**
 * The index entry to pull for `want`: the exact platform if the index has
 * it, else the nearest one `want` can run; the first of equals. `ref` names
 * the image in the error ("no image for linux/arm64/v8 in docker.io/...").
 */
export const selectManifest = (
  index: ImageIndex,
  want: Platform,
  ref?: string,
): E.Either<NoMatchingPlatform, Descriptor> => {
  const candidates = index.manifests.filter((d) => d.platform !== undefined && !isAttestation(d));
  let best: { descriptor: Descriptor; distance: number } | undefined;
  for (const descriptor of candidates) {
    const d = descriptor.platform === undefined ? undefined : distance(want, descriptor.platform);
    if (d !== undefined && (best === undefined || d < best.distance)) best = { descriptor, distance: d };
  }
  if (best !== undefined) return E.right(best.descriptor);
  const offered = [
    ...new Set(candidates.flatMap((d) => (d.platform === undefined ? [] : [formatPlatform(d.platform)]))),
  ];
  const where = ref === undefined ? "" : ` in ${ref}`;
  const has = offered.length === 0 ? "it names no platforms" : `it has ${offered.join(", ")}`;
  return E.left({
    _tag: "NoMatchingPlatform",
    message: `no image for ${formatPlatform(want)}${where} (${has})`,
  });
};
