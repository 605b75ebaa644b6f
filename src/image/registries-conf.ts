// registries.conf, the file Podman users already have (containers-registries.conf(5)
// and containers-registries.conf.d(5), version 2 format). nook honours:
//
//   unqualified-search-registries     where short names are looked for, in order
//   [[registry]] prefix, location     which names a table applies to, and where they really live
//   [[registry]] insecure, blocked    plain HTTP / untrusted TLS allowed; pulls refused
//   [[registry]] mirror-by-digest-only, [[registry.mirror]] location, insecure, pull-from-mirror
//
// short-name-mode is checked and kept but not acted on: nook never prompts, it
// tries every search registry in order (the man page's "permissive" mode
// without a terminal). Every other key (aliases, credential-helpers, ...) is
// ignored, so a Podman file loads as it is. The version 1 format is refused
// with its version 2 equivalent as the hint.
import * as E from "fp-ts/lib/Either.js";
import type * as TE from "fp-ts/lib/TaskEither.js";
import * as t from "io-ts";
import { parse as parseToml, TomlError } from "smol-toml";
import { decode } from "../lib/decode.js";
import {
  checkRegistryHost,
  checkRepositoryPath,
  DOCKER_HUB,
  dockerHubPath,
  familiarName,
  familiarString,
  formatReference,
  normaliseRegistry,
  referenceName,
  type Reference,
} from "./reference.js";

// The file as written. Every table is partial and checked by hand afterwards:
// t.union and t.intersection add index entries to io-ts's context, which
// would show up in the reported field path as "registry[0][1]".
const PullFromMirror = t.keyof({ all: null, "digest-only": null, "tag-only": null });
export type PullFromMirror = t.TypeOf<typeof PullFromMirror>;

const ShortNameMode = t.keyof({ enforcing: null, permissive: null, disabled: null });
export type ShortNameMode = t.TypeOf<typeof ShortNameMode>;

const MirrorTable = t.partial(
  { location: t.string, insecure: t.boolean, "pull-from-mirror": PullFromMirror },
  "[[registry.mirror]] table",
);

const RegistryTable = t.partial(
  {
    prefix: t.string,
    location: t.string,
    insecure: t.boolean,
    blocked: t.boolean,
    "mirror-by-digest-only": t.boolean,
    mirror: t.array(MirrorTable, "array of [[registry.mirror]] tables"),
  },
  "[[registry]] table",
);

export const RegistriesConfFile = t.partial(
  {
    "unqualified-search-registries": t.array(t.string, "array of strings"),
    "short-name-mode": ShortNameMode,
    registry: t.array(RegistryTable, "array of [[registry]] tables"),
  },
  "registries.conf",
);
export type RegistriesConfFile = t.TypeOf<typeof RegistriesConfFile>;

// The file as nook uses it: prefixes defaulted and checked, locations trimmed,
// and each setting remembers the file it came from for the messages.

export interface MirrorRule {
  readonly location: string;
  readonly insecure: boolean;
  readonly pullFromMirror: PullFromMirror;
}

export interface RegistryRule {
  /** "example.com", "example.com/ns/repo", or a wildcard "*.example.com". */
  readonly prefix: string;
  /** Absent only with a wildcard prefix: matching names are used as they are. */
  readonly location?: string;
  readonly insecure: boolean;
  readonly blocked: boolean;
  readonly mirrorByDigestOnly: boolean;
  readonly mirrors: readonly MirrorRule[];
  readonly source: string;
}

export interface SearchRegistries {
  readonly registries: readonly string[];
  readonly source: string;
}

export interface RegistriesConf {
  /** Absent when no file set it; an empty list (set on purpose) means short names are refused. */
  readonly unqualifiedSearchRegistries?: SearchRegistries;
  readonly shortNameMode?: ShortNameMode;
  readonly registries: readonly RegistryRule[];
}

export const EMPTY_REGISTRIES_CONF: RegistriesConf = { registries: [] };

export interface ConfError {
  readonly _tag: "RegistriesConfInvalid";
  readonly message: string;
  readonly hint?: string;
}

export type ResolveError =
  | ConfError
  | { readonly _tag: "RegistryBlocked"; readonly message: string; readonly hint?: string }
  | { readonly _tag: "NoSearchRegistries"; readonly message: string; readonly hint: string };

const invalid = (message: string, hint?: string): ConfError => ({
  _tag: "RegistriesConfInvalid",
  message,
  ...(hint === undefined ? {} : { hint }),
});

const MAN_PAGE = "containers-registries.conf(5)";

/** "Invalid TOML document: invalid value\n\n2: ..." -> "invalid value". */
const tomlProblem = (e: TomlError): string =>
  (e.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "") || "syntax error";

const parseTomlText = (text: string, source: string): E.Either<ConfError, Record<string, unknown>> => {
  try {
    // Hostile input: no __proto__ keys, and no nesting deeper than any real file has.
    return E.right(parseToml(text, { unsafeKeyBehaviour: "drop", maxDepth: 32 }));
  } catch (e) {
    if (e instanceof TomlError)
      return E.left(
        invalid(`${source}: line ${e.line}, column ${e.column}: not valid TOML: ${tomlProblem(e)}`),
      );
    return E.left(invalid(`${source}: not valid TOML: ${(e as Error).message}`));
  }
};

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const stringsIn = (table: unknown): string[] => {
  const list = isTable(table) ? table["registries"] : undefined;
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
};

/**
 * A version 1 file keeps its lists under [registries.search],
 * [registries.insecure] and [registries.block]; the hint spells out the
 * version 2 tables that say the same (containers-registries.conf(5),
 * "VERSION 1 FORMAT").
 */
const v1Error = (raw: Record<string, unknown>, source: string): ConfError | undefined => {
  const v1 = raw["registries"];
  if (!isTable(v1) || !["search", "insecure", "block"].some((k) => k in v1)) return undefined;
  const parts = [
    ...(stringsIn(v1["search"]).length > 0
      ? [`unqualified-search-registries = ${JSON.stringify(stringsIn(v1["search"]))}`]
      : []),
    ...stringsIn(v1["insecure"]).map((r) => `[[registry]] location = "${r}" insecure = true`),
    ...stringsIn(v1["block"]).map((r) => `[[registry]] location = "${r}" blocked = true`),
  ];
  return invalid(
    `${source}: the version 1 format ([registries.search], [registries.insecure], [registries.block]) ` +
      `is not supported; use version 2 (${MAN_PAGE})`,
    parts.length > 0 ? `write instead: ${parts.join("; ")}` : "remove the [registries.*] tables",
  );
};

type Checked<A> = E.Either<string, A>;

/** Trailing slashes are dropped and URL schemes refused, as containers/image's parseLocation does. */
const trimLocation = (value: string): Checked<string> => {
  const trimmed = value.replace(/\/+$/, "");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed))
    return E.left(
      `URL schemes are not supported, got ${JSON.stringify(value)} (for plain HTTP set insecure = true)`,
    );
  if (trimmed === "") return E.left("must not be empty");
  return E.right(trimmed);
};

/** host[:port][/namespace...], as a location or a non-wildcard prefix. */
const checkLocation = (value: string, kind: "location" | "prefix"): Checked<string> => {
  const trimmed = trimLocation(value);
  if (E.isLeft(trimmed)) return trimmed;
  const slash = trimmed.right.indexOf("/");
  const host = slash === -1 ? trimmed.right : trimmed.right.slice(0, slash);
  const path = slash === -1 ? "" : trimmed.right.slice(slash + 1);
  if (kind === "prefix" && (path.includes(":") || path.includes("@")))
    return E.left(
      `prefixes that name a tag or digest are not supported by nook, got ${JSON.stringify(value)}`,
    );
  const bad = checkRegistryHost(host) ?? (path === "" ? undefined : checkRepositoryPath(path));
  return bad === undefined ? E.right(trimmed.right) : E.left(`${bad}, in ${JSON.stringify(value)}`);
};

const WILDCARD = "*.";

/** "*.example.com": only a leading wildcard, and no port, path, tag or digest (containers/image loadConfigFile). */
const checkWildcard = (value: string): Checked<string> => {
  const domain = value.slice(WILDCARD.length);
  return /[/@:]/.test(domain) || checkRegistryHost(domain) !== undefined
    ? E.left(`a wildcard prefix must look like *.example.com, got ${JSON.stringify(value)}`)
    : E.right(value);
};

const checkSearchRegistry = (value: string): Checked<string> => {
  const trimmed = trimLocation(value);
  if (E.isLeft(trimmed)) return trimmed;
  return trimmed.right.includes("/") || checkRegistryHost(trimmed.right) !== undefined
    ? E.left(`expected host[:port], got ${JSON.stringify(value)}`)
    : E.right(normaliseRegistry(trimmed.right));
};

const checkMirror = (
  m: t.TypeOf<typeof MirrorTable>,
  at: string,
  digestOnly: boolean,
): E.Either<string, MirrorRule> => {
  if (m.location === undefined) return E.left(`${at}.location: a mirror needs a location`);
  const location = checkLocation(m.location, "location");
  if (E.isLeft(location)) return E.left(`${at}.location: ${location.left}`);
  if (digestOnly && m["pull-from-mirror"] !== undefined)
    return E.left(`${at}.pull-from-mirror: cannot be set when the registry sets mirror-by-digest-only`);
  return E.right({
    location: location.right,
    insecure: m.insecure ?? false,
    pullFromMirror: m["pull-from-mirror"] ?? "all",
  });
};

/** Defaults and checks one [[registry]] table (containers/image postProcessRegistries). */
const checkRegistry = (
  r: t.TypeOf<typeof RegistryTable>,
  at: string,
  source: string,
): E.Either<string, RegistryRule> => {
  const location = r.location === undefined ? undefined : checkLocation(r.location, "location");
  if (location !== undefined && E.isLeft(location)) return E.left(`${at}.location: ${location.left}`);
  let prefix: string;
  if (r.prefix === undefined) {
    if (location === undefined) return E.left(`${at}: needs a location or a prefix`);
    prefix = location.right;
  } else {
    const checked = r.prefix.startsWith(WILDCARD)
      ? checkWildcard(r.prefix)
      : checkLocation(r.prefix, "prefix");
    if (E.isLeft(checked)) return E.left(`${at}.prefix: ${checked.left}`);
    prefix = checked.right;
    if (location === undefined && !prefix.startsWith(WILDCARD))
      return E.left(`${at}.location: needed unless the prefix is a wildcard such as *.example.com`);
  }
  const digestOnly = r["mirror-by-digest-only"] ?? false;
  const mirrors: MirrorRule[] = [];
  for (const [i, m] of (r.mirror ?? []).entries()) {
    const mirror = checkMirror(m, `${at}.mirror[${i}]`, digestOnly);
    if (E.isLeft(mirror)) return mirror;
    mirrors.push(mirror.right);
  }
  return E.right({
    prefix,
    ...(location === undefined ? {} : { location: location.right }),
    insecure: r.insecure ?? false,
    blocked: r.blocked ?? false,
    mirrorByDigestOnly: digestOnly,
    mirrors,
    source,
  });
};

const checkFile = (file: RegistriesConfFile, source: string): E.Either<string, RegistriesConf> => {
  const search: string[] = [];
  for (const [i, s] of (file["unqualified-search-registries"] ?? []).entries()) {
    const checked = checkSearchRegistry(s);
    if (E.isLeft(checked)) return E.left(`unqualified-search-registries[${i}]: ${checked.left}`);
    search.push(checked.right);
  }
  // containers/image keeps the first of several tables with one prefix; a
  // later file (not a later table) is what overrides.
  const byPrefix = new Map<string, RegistryRule>();
  for (const [i, r] of (file.registry ?? []).entries()) {
    const rule = checkRegistry(r, `registry[${i}]`, source);
    if (E.isLeft(rule)) return rule;
    if (!byPrefix.has(rule.right.prefix)) byPrefix.set(rule.right.prefix, rule.right);
  }
  return E.right({
    ...(file["unqualified-search-registries"] === undefined
      ? {}
      : { unqualifiedSearchRegistries: { registries: search, source } }),
    ...(file["short-name-mode"] === undefined ? {} : { shortNameMode: file["short-name-mode"] }),
    registries: [...byPrefix.values()],
  });
};

/** Parses one registries.conf; `source` (its path) starts every error message. */
export const parseRegistriesConf = (text: string, source: string): E.Either<ConfError, RegistriesConf> => {
  const raw = parseTomlText(text, source);
  if (E.isLeft(raw)) return raw;
  const v1 = v1Error(raw.right, source);
  if (v1 !== undefined) return E.left(v1);
  const file = decode(RegistriesConfFile, "")(raw.right);
  // decode names paths from a root; with an empty root they start with ".".
  if (E.isLeft(file)) return E.left(invalid(`${source}: ${file.left.message.replace(/^\./, "")}`));
  return E.mapLeft((problem: string) => invalid(`${source}: ${problem}`, `see ${MAN_PAGE}`))(
    checkFile(file.right, source),
  );
};

/**
 * Merges files read in order, later over earlier (containers-registries.conf.d(5)):
 * a file that sets unqualified-search-registries or short-name-mode replaces
 * the earlier value (an empty list too); [[registry]] tables merge by prefix,
 * a later table replacing an earlier one with the same prefix as a whole,
 * mirrors included. Which files are read, and that the user's registries.conf
 * replaces the system one, is loadRegistriesConf's business.
 */
export const mergeConfs = (confs: readonly RegistriesConf[]): RegistriesConf =>
  confs.reduce((base, over) => {
    const byPrefix = new Map(base.registries.map((r) => [r.prefix, r]));
    for (const r of over.registries) byPrefix.set(r.prefix, r);
    const search = over.unqualifiedSearchRegistries ?? base.unqualifiedSearchRegistries;
    const mode = over.shortNameMode ?? base.shortNameMode;
    return {
      ...(search === undefined ? {} : { unqualifiedSearchRegistries: search }),
      ...(mode === undefined ? {} : { shortNameMode: mode }),
      registries: [...byPrefix.values()],
    };
  }, EMPTY_REGISTRIES_CONF);

export interface RegistriesConfPaths {
  /** $CONTAINERS_REGISTRIES_CONF: when set, the main file in place of `user` and `system`, and it must exist. */
  readonly explicit?: string;
  /** $XDG_CONFIG_HOME/containers/registries.conf: when it exists, `system` and `systemDropIns` are not read. */
  readonly user: string;
  readonly userDropIns: string;
  readonly system: string;
  readonly systemDropIns: string;
}

/**
 * Where the files are. containers/image reads ~/.config/containers whatever
 * XDG_CONFIG_HOME says; nook follows XDG_CONFIG_HOME when it is set (the two
 * agree unless it points elsewhere). The XDG base directory spec says a
 * relative value is to be ignored.
 */
export const registriesConfPaths = (
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): RegistriesConfPaths => {
  const xdg = env["XDG_CONFIG_HOME"];
  const config = xdg !== undefined && xdg.startsWith("/") ? xdg : `${home}/.config`;
  const explicit = env["CONTAINERS_REGISTRIES_CONF"];
  return {
    ...(explicit === undefined || explicit === "" ? {} : { explicit }),
    user: `${config}/containers/registries.conf`,
    userDropIns: `${config}/containers/registries.conf.d`,
    system: "/etc/containers/registries.conf",
    systemDropIns: "/etc/containers/registries.conf.d",
  };
};

/** The file system as loadRegistriesConf needs it; injected so that loading stays testable. */
export interface ConfReader {
  /** The file's text, or undefined when it does not exist. */
  readonly readFile: (path: string) => Promise<string | undefined>;
  /** The names of the regular files in a directory, or undefined when it does not exist. */
  readonly readDir: (path: string) => Promise<readonly string[] | undefined>;
}

interface ConfText {
  readonly path: string;
  readonly text: string;
}

/** The main file's text, and the drop-in directories that go with it. */
const readMain = async (
  paths: RegistriesConfPaths,
  io: ConfReader,
): Promise<E.Either<ConfError, { main?: ConfText; dirs: string[] }>> => {
  const both = [paths.systemDropIns, paths.userDropIns];
  if (paths.explicit !== undefined) {
    const text = await io.readFile(paths.explicit);
    return text === undefined
      ? E.left(invalid(`${paths.explicit}: no such file (named by CONTAINERS_REGISTRIES_CONF)`))
      : E.right({ main: { path: paths.explicit, text }, dirs: both });
  }
  const user = await io.readFile(paths.user);
  if (user !== undefined)
    return E.right({ main: { path: paths.user, text: user }, dirs: [paths.userDropIns] });
  const system = await io.readFile(paths.system);
  return E.right(
    system === undefined ? { dirs: both } : { main: { path: paths.system, text: system }, dirs: both },
  );
};

/** The *.conf files of each directory, in name order; a missing directory has none. */
const dropInPaths = async (dirs: readonly string[], io: ConfReader): Promise<string[]> => {
  const paths: string[] = [];
  for (const dir of dirs) {
    const names = (await io.readDir(dir)) ?? [];
    paths.push(
      ...[...names]
        .filter((n) => n.endsWith(".conf"))
        .sort()
        .map((n) => `${dir}/${n}`),
    );
  }
  return paths;
};

/**
 * Reads, parses and merges every registries.conf that applies; none at all is
 * an empty configuration. The files, in order (containers-registries.conf.d(5),
 * "CONFIGURATION PRECEDENCE"): the main file, which is
 * $CONTAINERS_REGISTRIES_CONF, else the user's file when it exists, else the
 * system file; then the *.conf drop-ins in alphanumeric order, of the system
 * directory and then the user's, except that a user main file brings only the
 * user's drop-ins.
 */
export const loadRegistriesConf =
  (paths: RegistriesConfPaths, io: ConfReader): TE.TaskEither<ConfError, RegistriesConf> =>
  async () => {
    try {
      const main = await readMain(paths, io);
      if (E.isLeft(main)) return main;
      const texts: ConfText[] = main.right.main === undefined ? [] : [main.right.main];
      for (const path of await dropInPaths(main.right.dirs, io)) {
        const text = await io.readFile(path);
        // A drop-in removed between the listing and the read is no error.
        if (text !== undefined) texts.push({ path, text });
      }
      const confs: RegistriesConf[] = [];
      for (const { path, text } of texts) {
        const conf = parseRegistriesConf(text, path);
        if (E.isLeft(conf)) return conf;
        confs.push(conf.right);
      }
      return E.right(mergeConfs(confs));
    } catch (e) {
      return E.left(invalid(`reading registries.conf: ${(e as Error).message}`));
    }
  };

// Resolution: from a reference to the hosts to ask.

export interface Endpoint {
  /** The API host: docker.io is served by registry-1.docker.io. */
  readonly host: string;
  /** Plain HTTP and untrusted certificates allowed. */
  readonly insecure: boolean;
  readonly repository: string;
}

export interface ResolvedSource {
  /** The image's name, which nook stores it under; a short name has been given a registry. */
  readonly reference: Reference;
  /** Mirrors first, then the primary location; the first that has the image wins. */
  readonly endpoints: readonly Endpoint[];
}

const DOCKER_HUB_API = "registry-1.docker.io";

const hostOnly = (registry: string): string =>
  registry.startsWith("[") ? registry.slice(0, registry.indexOf("]") + 1) : (registry.split(":")[0] ?? "");

/**
 * Loopback registries speak plain HTTP without configuration, as Docker's
 * daemon treats 127.0.0.0/8 (dockerd --insecure-registry): a registry run
 * for testing on the same machine rarely has a certificate.
 */
export const isLoopback = (registry: string): boolean => {
  const host = hostOnly(registry).toLowerCase();
  if (host === "localhost") return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) return v4.slice(1).every((octet) => Number(octet) <= 255);
  if (!host.startsWith("[")) return false;
  try {
    // URL writes an IPv6 address in its canonical form: [0:0::1] -> [::1].
    return new URL(`http://${host}/`).hostname === "[::1]";
  } catch {
    return false;
  }
};

/** How much of `name` ("host/path") `prefix` covers, or -1 when it does not match. */
const matchLength = (prefix: string, name: string): number => {
  if (prefix.startsWith(WILDCARD)) {
    // "*.example.com" covers any subdomain, at any depth, with any port; not example.com itself.
    const registry = name.slice(0, name.indexOf("/"));
    const host = hostOnly(registry);
    const domain = prefix.slice(1);
    return host.endsWith(domain) && host.length > domain.length ? registry.length : -1;
  }
  // Whole path components only: "example.com/foo" covers example.com/foo/bar,
  // not example.com/foobar. containers/image also lets "example.com" cover
  // "example.com:5000" and calls that unintended; nook does not.
  return name === prefix || name.startsWith(`${prefix}/`) ? prefix.length : -1;
};

/** The table with the longest matching prefix; on a tie a plain prefix beats a wildcard. */
const findRule = (
  rules: readonly RegistryRule[],
  name: string,
): { rule: RegistryRule; covered: number } | undefined => {
  let best: { rule: RegistryRule; covered: number } | undefined;
  for (const rule of rules) {
    const covered = matchLength(rule.prefix, name);
    if (covered === -1) continue;
    const longer =
      best === undefined ||
      rule.prefix.length > best.rule.prefix.length ||
      (rule.prefix.length === best.rule.prefix.length && best.rule.prefix.startsWith(WILDCARD));
    if (longer) best = { rule, covered };
  }
  return best;
};

const endpointFor = (physical: string, insecure: boolean): Endpoint | undefined => {
  const slash = physical.indexOf("/");
  if (slash === -1 || slash === physical.length - 1) return undefined;
  const registry = physical.slice(0, slash);
  return {
    host: registry === DOCKER_HUB ? DOCKER_HUB_API : registry,
    insecure: insecure || isLoopback(registry),
    repository: dockerHubPath(registry, physical.slice(slash + 1)),
  };
};

/** Whether a mirror serves this pull (containers/image PullSourcesFromReference). */
const mirrorApplies = (rule: RegistryRule, mirror: MirrorRule, byDigest: boolean): boolean => {
  if (rule.mirrorByDigestOnly) return byDigest;
  if (mirror.pullFromMirror === "digest-only") return byDigest;
  if (mirror.pullFromMirror === "tag-only") return !byDigest;
  return true;
};

/** The endpoints for a fully qualified reference: mirrors, then the (possibly rewritten) location. */
const resolveQualified = (ref: Reference, conf: RegistriesConf): E.Either<ResolveError, ResolvedSource> => {
  const name = referenceName(ref);
  const found = findRule(conf.registries, name);
  if (found === undefined) {
    const primary = endpointFor(name, false);
    return primary === undefined
      ? E.left(invalid(`${name} names no repository`))
      : E.right({ reference: ref, endpoints: [primary] });
  }
  const { rule, covered } = found;
  if (rule.blocked)
    return E.left({
      _tag: "RegistryBlocked",
      message: `pulling ${formatReference(ref)} is blocked by ${rule.source} ([[registry]] prefix "${rule.prefix}")`,
      hint: `ask the administrator, or set blocked = false in ${rule.source} if it is yours`,
    });
  // A prefix "example.com/foo" with location "mirror.local/bar" turns
  // example.com/foo/app into mirror.local/bar/app (the man page's example).
  const rest = name.slice(covered);
  const targets = [
    ...rule.mirrors
      .filter((m) => mirrorApplies(rule, m, ref.digest !== undefined))
      .map((m) => ({ physical: m.location + rest, insecure: m.insecure })),
    { physical: rule.location === undefined ? name : rule.location + rest, insecure: rule.insecure },
  ];
  const endpoints: Endpoint[] = [];
  for (const target of targets) {
    const endpoint = endpointFor(target.physical, target.insecure);
    if (endpoint === undefined)
      return E.left(
        invalid(
          `${rule.source}: [[registry]] prefix "${rule.prefix}" maps ${name} to "${target.physical}", which names no repository`,
          "give the location a repository path, or make the prefix shorter",
        ),
      );
    endpoints.push(endpoint);
  }
  return E.right({ reference: ref, endpoints });
};

/**
 * Where to look for `ref`: for a fully qualified name one source; for a short
 * name one per unqualified-search registry, in order (docker.io alone when no
 * file sets the list). A short name is completed as typed, so "alpine" is
 * quay.io/alpine on quay.io and docker.io/library/alpine on Docker Hub
 * (containers/image pkg/shortnames). The typed form is the familiar name, so
 * "library/alpine" is searched as "alpine" too, where Podman would look for
 * quay.io/library/alpine; the reference does not keep the string it came
 * from, and the difference matters only outside Docker Hub. A blocked search
 * registry is passed over, and is an error only when every one is blocked; a
 * blocked qualified name is always an error.
 */
export const candidates = (
  ref: Reference,
  conf: RegistriesConf,
): E.Either<ResolveError, ResolvedSource[]> => {
  if (!ref.short) return E.map((s: ResolvedSource) => [s])(resolveQualified(ref, conf));
  const search = conf.unqualifiedSearchRegistries;
  if (search !== undefined && search.registries.length === 0)
    return E.left({
      _tag: "NoSearchRegistries",
      message: `short name "${familiarString(ref)}" names no registry, and unqualified-search-registries is empty in ${search.source}`,
      hint: `name the registry, as in ${formatReference(ref)}`,
    });
  // For a short name the registry is docker.io, so the familiar name is the path as typed.
  const typed = familiarName(ref);
  const sources: ResolvedSource[] = [];
  const blocked: ResolveError[] = [];
  for (const registry of search?.registries ?? [DOCKER_HUB]) {
    const qualified: Reference = {
      ...ref,
      registry,
      repository: dockerHubPath(registry, typed),
      short: false,
    };
    const source = resolveQualified(qualified, conf);
    if (E.isRight(source)) sources.push(source.right);
    else if (source.left._tag === "RegistryBlocked") blocked.push(source.left);
    else return source;
  }
  const [onlyBlocked] = blocked;
  if (sources.length === 0 && onlyBlocked !== undefined) {
    if (blocked.length === 1) return E.left(onlyBlocked);
    return E.left({
      _tag: "RegistryBlocked",
      message: `short name "${familiarString(ref)}": every unqualified-search registry is blocked for it (${blocked
        .map((b) => b.message.replace(/^pulling /, ""))
        .join("; ")})`,
      hint: "name a registry that is not blocked",
    });
  }
  return E.right(sources);
};
