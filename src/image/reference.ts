// Image references: "alpine", "user/app:1.2", "host:5000/ns/name@sha256:...".
// The grammar is distribution's (distribution/reference regexp.go):
//
//   reference := name [":" tag] ["@" digest]
//   name      := [domain "/"] path
//   domain    := host [":" port]        host: DNS-like name, IPv4, or [IPv6]
//   path      := component ["/" component]*
//   component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
//   tag       := [\w][\w.-]{0,127}
//
// and the normalisation is Docker's (normalize.go): a name without a domain
// lives on docker.io, and a one-component name on docker.io lives under
// library/. The reference is parsed once into an immutable, normalised value;
// nothing downstream looks at the input string again (DESIGN.md section 3).
import * as E from "fp-ts/lib/Either.js";
import { isDigest, type Digest } from "./digest.js";

export interface Reference {
  /** "docker.io", "quay.io", "localhost:5000", "[::1]:5000". */
  readonly registry: string;
  /** The path on the registry: "library/alpine", "user/app". */
  readonly repository: string;
  /** Absent only when a digest was given without a tag. */
  readonly tag?: string;
  readonly digest?: Digest;
  /**
   * The input named no registry ("alpine", "user/app"), so the registry is a
   * default that registries.conf's unqualified-search-registries may replace
   * (containers/image pkg/shortnames).
   */
  readonly short: boolean;
}

export interface ReferenceError {
  readonly _tag: "InvalidReference";
  readonly message: string;
  readonly hint?: string;
}

export const DOCKER_HUB = "docker.io";
/** The Docker Index's old name, still accepted as an alias of docker.io (normalize.go). */
const LEGACY_DOCKER_HUB = "index.docker.io";
const OFFICIAL_PREFIX = "library/";
const DEFAULT_TAG = "latest";
/** distribution's RepositoryNameTotalLengthMax; it bounds the path, after "library/" is added. */
const MAX_REPOSITORY_LENGTH = 255;

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DOMAIN_NAME =
  /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]+$/;
/** A bare 64-hex string is an image id; Docker refuses it as a name so that the two never collide. */
const IMAGE_ID = /^[a-f0-9]{64}$/;

/**
 * Why `domain` ("host" or "host:port") is not a registry host, or undefined
 * when it is one. Shared with registries.conf, whose locations are hosts too.
 */
export const checkRegistryHost = (domain: string): string | undefined => {
  if (domain.startsWith("[") && !domain.includes("]")) return `registry host "${domain}" has no closing ']'`;
  const ipv6End = domain.startsWith("[") ? domain.indexOf("]") + 1 : 0;
  const colon = domain.indexOf(":", ipv6End);
  const host = colon === -1 ? domain : domain.slice(0, colon);
  const port = colon === -1 ? undefined : domain.slice(colon + 1);
  if (port !== undefined && !PORT.test(port)) return `registry port "${port}" is not a number`;
  if (host.startsWith("[")) {
    return IPV6_HOST.test(host) ? undefined : `registry host "${host}" is not an IPv6 address in brackets`;
  }
  return DOMAIN_NAME.test(host) ? undefined : `registry host "${host}" is not a valid host name`;
};

/**
 * Why `path` ("library/alpine") is not a repository path, or undefined when
 * it is one. Shared with registries.conf, whose prefixes name paths too.
 */
export const checkRepositoryPath = (path: string): string | undefined => {
  if (path === "") return "repository name is empty";
  if (path !== path.toLowerCase()) return "repository name must be lowercase";
  for (const component of path.split("/")) {
    if (component === "") return "repository name has an empty path component (\"//\" or a '/' at an end)";
    if (!COMPONENT.test(component))
      return (
        `repository path component "${component}" must be lowercase letters and digits, ` +
        `joined by single '.' or '_', double '_' or any number of '-'`
      );
  }
  return undefined;
};

/** The first path component names a registry only if it looks like a host (normalize.go splitDockerDomain). */
const looksLikeHost = (component: string): boolean =>
  component.includes(".") || component.includes(":") || component === "localhost";

/** "alpine" -> "library/alpine" on Docker Hub, which keeps its official images there. */
export const dockerHubPath = (registry: string, path: string): string =>
  registry === DOCKER_HUB && !path.includes("/") ? OFFICIAL_PREFIX + path : path;

/** docker.io under its legacy name is docker.io. */
export const normaliseRegistry = (registry: string): string =>
  registry === LEGACY_DOCKER_HUB ? DOCKER_HUB : registry;

interface Split {
  readonly name: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

/** Splits "name[:tag][@digest]", or says what is wrong with the tag or digest. */
const splitTagAndDigest = (input: string): E.Either<string, Split> => {
  const at = input.indexOf("@");
  let digest: Digest | undefined;
  let rest = input;
  if (at !== -1) {
    const d = input.slice(at + 1);
    rest = input.slice(0, at);
    if (d === "") return E.left("'@' must be followed by a digest (sha256:<64 hex digits>)");
    if (d.includes("@")) return E.left("only one '@digest' may follow the name");
    if (!isDigest(d)) return E.left("digest must be sha256: followed by 64 lowercase hex digits");
    digest = d;
  }
  // The tag follows a ':' in the last path component; a ':' before the last
  // '/' belongs to a registry port.
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", lastSlash + 1);
  if (colon === -1) return E.right({ name: rest, digest });
  const tag = rest.slice(colon + 1);
  const name = rest.slice(0, colon);
  if (tag === "") return E.left("':' must be followed by a tag");
  if (tag.includes(":"))
    return E.left("only one ':tag' may follow the repository name (a registry port needs a '/' after it)");
  if (!TAG.test(tag)) {
    return E.left(
      tag.length > 128
        ? "tag is longer than 128 characters"
        : `tag "${tag}" may hold only letters, digits, '_', '.' and '-', and must not start with '.' or '-'`,
    );
  }
  return E.right({ name, tag, digest });
};

/**
 * Parses and normalises an image reference: "alpine" is
 * docker.io/library/alpine:latest; a digest without a tag gets no tag.
 */
export const parseReference = (input: string): E.Either<ReferenceError, Reference> => {
  const fail = (what: string, hint?: string): E.Either<ReferenceError, Reference> =>
    E.left({
      _tag: "InvalidReference",
      message: `invalid reference ${JSON.stringify(input)}: ${what}`,
      ...(hint === undefined ? {} : { hint }),
    });

  if (input === "") return fail("the name is empty");
  if (/\s/.test(input)) return fail("a reference cannot contain spaces or other white space");
  if (IMAGE_ID.test(input)) return fail("64 hex digits are an image id, not a repository name");
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(input);
  if (scheme)
    return fail("a reference has no URL scheme", `drop "${scheme[0]}": ${input.slice(scheme[0].length)}`);

  const split = splitTagAndDigest(input);
  if (E.isLeft(split)) return fail(split.left);
  const { name, tag, digest } = split.right;
  if (name === "") return fail("the repository name is missing");

  const slash = name.indexOf("/");
  const explicit = slash !== -1 && looksLikeHost(name.slice(0, slash));
  const registry = explicit ? normaliseRegistry(name.slice(0, slash)) : DOCKER_HUB;
  const path = explicit ? name.slice(slash + 1) : name;

  if (explicit) {
    const bad = checkRegistryHost(name.slice(0, slash));
    if (bad !== undefined) return fail(bad);
  }
  const badPath = checkRepositoryPath(path);
  if (badPath !== undefined) {
    const lower = path.toLowerCase();
    const tagAndDigest = input.slice(name.length);
    const hint =
      lower !== path && checkRepositoryPath(lower) === undefined
        ? `try ${explicit ? `${name.slice(0, slash)}/` : ""}${lower}${tagAndDigest}`
        : undefined;
    return fail(path === "" ? "the repository name after the registry is missing" : badPath, hint);
  }
  const repository = dockerHubPath(registry, path);
  if (repository.length > MAX_REPOSITORY_LENGTH)
    return fail(`repository name is longer than ${MAX_REPOSITORY_LENGTH} characters`);

  // Docker's TagNameOnly: "latest" only when neither a tag nor a digest was given.
  const finalTag = tag ?? (digest === undefined ? DEFAULT_TAG : undefined);
  return E.right({
    registry,
    repository,
    ...(finalTag === undefined ? {} : { tag: finalTag }),
    ...(digest === undefined ? {} : { digest }),
    short: !explicit,
  });
};

/** "docker.io/library/alpine": registry and repository, no tag or digest. */
export const referenceName = (ref: Reference): string => `${ref.registry}/${ref.repository}`;

const suffix = (ref: Reference): string =>
  (ref.tag === undefined ? "" : `:${ref.tag}`) + (ref.digest === undefined ? "" : `@${ref.digest}`);

/** The full normalised form: "docker.io/library/alpine:latest", "quay.io/a/b@sha256:...". */
export const formatReference = (ref: Reference): string => referenceName(ref) + suffix(ref);

/**
 * The short name Docker shows (normalize.go familiarizeName): "alpine",
 * "user/app", "quay.io/a/b". Only docker.io is left out, and library/ only
 * when nothing is nested under it.
 */
export const familiarName = (ref: Reference): string => {
  if (ref.registry !== DOCKER_HUB) return referenceName(ref);
  const official = ref.repository.startsWith(OFFICIAL_PREFIX)
    ? ref.repository.slice(OFFICIAL_PREFIX.length)
    : "";
  return official !== "" && !official.includes("/") ? official : ref.repository;
};

/** familiarName with the tag and digest: "alpine:latest", "user/app@sha256:...". */
export const familiarString = (ref: Reference): string => familiarName(ref) + suffix(ref);

/** True when the reference named no registry, so unqualified-search-registries apply. */
export const isShortName = (ref: Reference): boolean => ref.short;
