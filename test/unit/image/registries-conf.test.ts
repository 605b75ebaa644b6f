import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { formatReference, parseReference, type Reference } from "../../../src/image/reference.js";
import {
  candidates,
  EMPTY_REGISTRIES_CONF,
  isLoopback,
  loadRegistriesConf,
  mergeConfs,
  parseRegistriesConf,
  registriesConfPaths,
  type ConfReader,
  type RegistriesConf,
  type ResolvedSource,
} from "../../../src/image/registries-conf.js";

const SYSTEM = "/etc/containers/registries.conf";
const DIGEST = `sha256:${"ab".repeat(32)}`;

const conf = (text: string, source = SYSTEM): RegistriesConf => {
  const r = parseRegistriesConf(text, source);
  if (E.isLeft(r)) throw new Error(`expected the file to parse: ${r.left.message}`);
  return r.right;
};

const confError = (text: string): { message: string; hint?: string } => {
  const r = parseRegistriesConf(text, SYSTEM);
  if (E.isRight(r)) throw new Error("expected the file to be refused");
  return r.left;
};

const ref = (s: string): Reference => {
  const r = parseReference(s);
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

const resolve = (name: string, c: RegistriesConf = EMPTY_REGISTRIES_CONF): ResolvedSource[] => {
  const r = candidates(ref(name), c);
  if (E.isLeft(r)) throw new Error(`expected ${name} to resolve: ${r.left.message}`);
  return r.right;
};

/** "host/repository (insecure)" per endpoint, one list per candidate: easy to read in a failure. */
const endpoints = (name: string, c: RegistriesConf = EMPTY_REGISTRIES_CONF): string[][] =>
  resolve(name, c).map((s) =>
    s.endpoints.map((e) => `${e.host}/${e.repository}${e.insecure ? " (insecure)" : ""}`),
  );

const PODMAN_FILE = `
# A Fedora-style file: many keys nook does not use.
unqualified-search-registries = ["registry.fedoraproject.org", "quay.io/", "docker.io"]
short-name-mode = "enforcing"
credential-helpers = ["containers-auth.json"]

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"

[[registry]]
prefix = "example.com/foo"
insecure = false
blocked = false
location = "internal-registry-for-example.com/bar/"
future-setting = 7

[[registry.mirror]]
location = "example-mirror-0.local/mirror-for-foo"

[[registry.mirror]]
location = "example-mirror-1.local/mirrors/foo"
insecure = true
pull-from-mirror = "digest-only"

[[registry]]
location = "localhost:5000"
insecure = true

[engine]
something = "else"
`;

describe("parseRegistriesConf", () => {
  it("reads the version 2 fields and ignores every other key", () => {
    expect(conf(PODMAN_FILE)).toEqual({
      unqualifiedSearchRegistries: {
        registries: ["registry.fedoraproject.org", "quay.io", "docker.io"],
        source: SYSTEM,
      },
      shortNameMode: "enforcing",
      registries: [
        {
          prefix: "example.com/foo",
          location: "internal-registry-for-example.com/bar",
          insecure: false,
          blocked: false,
          mirrorByDigestOnly: false,
          mirrors: [
            { location: "example-mirror-0.local/mirror-for-foo", insecure: false, pullFromMirror: "all" },
            { location: "example-mirror-1.local/mirrors/foo", insecure: true, pullFromMirror: "digest-only" },
          ],
          source: SYSTEM,
        },
        {
          prefix: "localhost:5000",
          location: "localhost:5000",
          insecure: true,
          blocked: false,
          mirrorByDigestOnly: false,
          mirrors: [],
          source: SYSTEM,
        },
      ],
    });
  });

  it("reads an empty file as no settings", () => {
    expect(conf("")).toEqual({ registries: [] });
    expect(conf("# only comments\n")).toEqual({ registries: [] });
  });

  it("keeps an explicitly empty search list, which is not the same as none", () => {
    expect(conf("unqualified-search-registries = []").unqualifiedSearchRegistries).toEqual({
      registries: [],
      source: SYSTEM,
    });
  });

  it("normalises index.docker.io in the search list", () => {
    expect(
      conf('unqualified-search-registries = ["index.docker.io"]').unqualifiedSearchRegistries?.registries,
    ).toEqual(["docker.io"]);
  });

  it("accepts a wildcard prefix without a location", () => {
    expect(conf('[[registry]]\nprefix = "*.example.com"\ninsecure = true').registries).toEqual([
      {
        prefix: "*.example.com",
        insecure: true,
        blocked: false,
        mirrorByDigestOnly: false,
        mirrors: [],
        source: SYSTEM,
      },
    ]);
  });

  it("keeps the first of two tables with the same prefix in one file, as containers/image does", () => {
    const c = conf('[[registry]]\nlocation = "a.io"\n[[registry]]\nlocation = "a.io"\nblocked = true');
    expect(c.registries.map((r) => r.blocked)).toEqual([false]);
  });

  it("refuses the version 1 format with its version 2 equivalent", () => {
    const v1 = `
[registries.search]
registries = ['registry1.com', 'registry2.com']

[registries.insecure]
registries = ['registry3.com']

[registries.block]
registries = ['registry.untrusted.com']
`;
    expect(confError(v1)).toEqual({
      _tag: "RegistriesConfInvalid",
      message:
        `${SYSTEM}: the version 1 format ([registries.search], [registries.insecure], [registries.block]) ` +
        "is not supported; use version 2 (containers-registries.conf(5))",
      hint:
        'write instead: unqualified-search-registries = ["registry1.com","registry2.com"]; ' +
        '[[registry]] location = "registry3.com" insecure = true; ' +
        '[[registry]] location = "registry.untrusted.com" blocked = true',
    });
  });

  it("refuses a version 1 file with only a search table", () => {
    const e = confError("[registries.search]\nregistries = []\n");
    expect(e.message).toContain("version 1 format");
    expect(e.hint).toBe("remove the [registries.*] tables");
  });

  it("names the file and the path of a field of the wrong type", () => {
    expect(confError('[[registry]]\nlocation = "a.io"\n[[registry]]\nlocation = 42\n')).toEqual({
      _tag: "RegistriesConfInvalid",
      message: `${SYSTEM}: registry[1].location: expected string, got 42`,
    });
  });

  it.each([
    [
      'unqualified-search-registries = "docker.io"',
      'unqualified-search-registries: expected array of strings, got "docker.io"',
    ],
    ["unqualified-search-registries = [1]", "unqualified-search-registries[0]: expected string, got 1"],
    [
      'short-name-mode = "prompt"',
      'short-name-mode: expected "enforcing" | "permissive" | "disabled", got "prompt"',
    ],
    [
      '[registry]\nlocation = "a.io"',
      'registry: expected array of [[registry]] tables, got {"location":"a.io"}',
    ],
    [
      '[[registry]]\nlocation = "a.io"\ninsecure = "yes"',
      'registry[0].insecure: expected boolean, got "yes"',
    ],
    [
      '[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\nlocation = "m.io"\n[[registry.mirror]]\nlocation = "n.io"\ninsecure = 1',
      "registry[0].mirror[1].insecure: expected boolean, got 1",
    ],
    [
      '[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "sometimes"',
      'registry[0].mirror[0].pull-from-mirror: expected "all" | "digest-only" | "tag-only", got "sometimes"',
    ],
  ])("reports %j by field path", (text, problem) => {
    expect(confError(text).message).toBe(`${SYSTEM}: ${problem}`);
  });

  it.each([
    [
      '[[registry]]\nlocation = "https://a.io"',
      'registry[0].location: URL schemes are not supported, got "https://a.io" (for plain HTTP set insecure = true)',
    ],
    ["[[registry]]\ninsecure = true", "registry[0]: needs a location or a prefix"],
    [
      '[[registry]]\nprefix = "a.io/x"',
      "registry[0].location: needed unless the prefix is a wildcard such as *.example.com",
    ],
    [
      '[[registry]]\nprefix = "*.example.com/foo"',
      'registry[0].prefix: a wildcard prefix must look like *.example.com, got "*.example.com/foo"',
    ],
    [
      '[[registry]]\nprefix = "*.example.com:5000"',
      'registry[0].prefix: a wildcard prefix must look like *.example.com, got "*.example.com:5000"',
    ],
    [
      '[[registry]]\nprefix = "example.*.com"\nlocation = "a.io"',
      'registry[0].prefix: registry host "example.*.com" is not a valid host name, in "example.*.com"',
    ],
    [
      '[[registry]]\nprefix = "a.io/x:v1"\nlocation = "b.io/y"',
      'registry[0].prefix: prefixes that name a tag or digest are not supported by nook, got "a.io/x:v1"',
    ],
    [
      '[[registry]]\nlocation = "a.io/Upper"',
      'registry[0].location: repository name must be lowercase, in "a.io/Upper"',
    ],
    [
      '[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\ninsecure = true',
      "registry[0].mirror[0].location: a mirror needs a location",
    ],
    [
      '[[registry]]\nlocation = "a.io"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "tag-only"',
      "registry[0].mirror[0].pull-from-mirror: cannot be set when the registry sets mirror-by-digest-only",
    ],
    [
      'unqualified-search-registries = ["quay.io/ns"]',
      'unqualified-search-registries[0]: expected host[:port], got "quay.io/ns"',
    ],
    [
      'unqualified-search-registries = ["http://quay.io"]',
      'unqualified-search-registries[0]: URL schemes are not supported, got "http://quay.io" (for plain HTTP set insecure = true)',
    ],
  ])("refuses the meaningless %j", (text, problem) => {
    expect(confError(text)).toEqual({
      _tag: "RegistriesConfInvalid",
      message: `${SYSTEM}: ${problem}`,
      hint: "see containers-registries.conf(5)",
    });
  });

  it("reports TOML syntax errors on one line with the position", () => {
    const e = confError('unqualified-search-registries = ["a.io"\n[[registry]]\n');
    expect(e.message).toMatch(new RegExp(`^${SYSTEM}: line \\d+, column \\d+: not valid TOML: `));
    expect(e.message).not.toContain("\n");
  });

  it("reports a key defined twice", () => {
    expect(confError('short-name-mode = "disabled"\nshort-name-mode = "disabled"').message).toMatch(
      /^\/etc\/containers\/registries.conf: line 2, column 1: not valid TOML: /,
    );
  });

  it("drops __proto__ keys from hostile files", () => {
    const c = conf('[__proto__]\npolluted = true\n[[registry]]\nlocation = "a.io"');
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(c.registries).toHaveLength(1);
  });
});

describe("mergeConfs", () => {
  const system = conf(
    `unqualified-search-registries = ["registry.fedoraproject.org", "docker.io"]
short-name-mode = "enforcing"
[[registry]]
location = "a.io"
insecure = true
[[registry]]
location = "b.io"
[[registry.mirror]]
location = "mirror.b.io"`,
  );
  const dropIn = conf(
    `[[registry]]
location = "b.io"
blocked = true
[[registry]]
location = "c.io"`,
    "/etc/containers/registries.conf.d/50-local.conf",
  );

  it("replaces a [[registry]] table with the same prefix as a whole, mirrors included, and adds new ones", () => {
    const merged = mergeConfs([system, dropIn]);
    expect(merged.registries.map((r) => [r.prefix, r.blocked, r.mirrors.length, r.source])).toEqual([
      ["a.io", false, 0, SYSTEM],
      ["b.io", true, 0, "/etc/containers/registries.conf.d/50-local.conf"],
      ["c.io", false, 0, "/etc/containers/registries.conf.d/50-local.conf"],
    ]);
  });

  it("keeps settings a later file does not set", () => {
    const merged = mergeConfs([system, dropIn]);
    expect(merged.unqualifiedSearchRegistries).toEqual(system.unqualifiedSearchRegistries);
    expect(merged.shortNameMode).toBe("enforcing");
  });

  it("lets a later file replace the search list, even with an empty one", () => {
    const later = conf('unqualified-search-registries = ["quay.io"]', "/u/registries.conf");
    const empty = conf("unqualified-search-registries = []", "/u/99.conf");
    expect(mergeConfs([system, later]).unqualifiedSearchRegistries).toEqual({
      registries: ["quay.io"],
      source: "/u/registries.conf",
    });
    expect(mergeConfs([system, later, empty]).unqualifiedSearchRegistries).toEqual({
      registries: [],
      source: "/u/99.conf",
    });
  });

  it("applies files in the order given", () => {
    const one = conf('short-name-mode = "disabled"', "/1.conf");
    const two = conf('short-name-mode = "permissive"', "/2.conf");
    expect(mergeConfs([one, two]).shortNameMode).toBe("permissive");
    expect(mergeConfs([two, one]).shortNameMode).toBe("disabled");
  });

  it("merges nothing into the empty configuration", () => {
    expect(mergeConfs([])).toEqual(EMPTY_REGISTRIES_CONF);
  });
});

describe("registriesConfPaths", () => {
  it("uses ~/.config without XDG_CONFIG_HOME", () => {
    expect(registriesConfPaths({}, "/home/ann")).toEqual({
      user: "/home/ann/.config/containers/registries.conf",
      userDropIns: "/home/ann/.config/containers/registries.conf.d",
      system: "/etc/containers/registries.conf",
      systemDropIns: "/etc/containers/registries.conf.d",
    });
  });

  it("follows an absolute XDG_CONFIG_HOME and ignores a relative one", () => {
    expect(registriesConfPaths({ XDG_CONFIG_HOME: "/cfg" }, "/home/ann").user).toBe(
      "/cfg/containers/registries.conf",
    );
    expect(registriesConfPaths({ XDG_CONFIG_HOME: "cfg" }, "/home/ann").user).toBe(
      "/home/ann/.config/containers/registries.conf",
    );
  });

  it("takes CONTAINERS_REGISTRIES_CONF as the main file", () => {
    expect(registriesConfPaths({ CONTAINERS_REGISTRIES_CONF: "/tmp/r.conf" }, "/h").explicit).toBe(
      "/tmp/r.conf",
    );
    expect("explicit" in registriesConfPaths({ CONTAINERS_REGISTRIES_CONF: "" }, "/h")).toBe(false);
  });
});

/** A file system of path -> text; directories are the paths' parents. */
const fakeFs = (files: Record<string, string>): ConfReader & { read: string[] } => {
  const read: string[] = [];
  return {
    read,
    readFile: async (path) => {
      read.push(path);
      return files[path];
    },
    readDir: async (dir) => {
      const names = Object.keys(files)
        .filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes("/"))
        .map((p) => p.slice(dir.length + 1));
      return names.length === 0 ? undefined : names.reverse();
    },
  };
};

const HOME_PATHS = registriesConfPaths({}, "/home/ann");
const USER = HOME_PATHS.user;
const USER_D = HOME_PATHS.userDropIns;
const SYSTEM_D = HOME_PATHS.systemDropIns;

const search = (name: string): string => `unqualified-search-registries = ["${name}"]`;

const loadedSearch = async (files: Record<string, string>, paths = HOME_PATHS): Promise<unknown> => {
  const r = await loadRegistriesConf(paths, fakeFs(files))();
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right.unqualifiedSearchRegistries?.source;
};

describe("loadRegistriesConf", () => {
  it("reads the system file, then system drop-ins, then user drop-ins, each directory in name order", async () => {
    const files = {
      [SYSTEM]: search("system.io"),
      [`${SYSTEM_D}/10-a.conf`]: search("a.io"),
      [`${SYSTEM_D}/20-b.conf`]: search("b.io"),
      [`${SYSTEM_D}/30-c.conf.rpmsave`]: search("ignored.io"),
      [`${USER_D}/05-user.conf`]: search("user.io"),
    };
    const io = fakeFs(files);
    const r = await loadRegistriesConf(HOME_PATHS, io)();
    expect(E.isRight(r) && r.right.unqualifiedSearchRegistries).toEqual({
      registries: ["user.io"],
      source: `${USER_D}/05-user.conf`,
    });
    expect(io.read.filter((p) => p in files)).toEqual([
      SYSTEM,
      `${SYSTEM_D}/10-a.conf`,
      `${SYSTEM_D}/20-b.conf`,
      `${USER_D}/05-user.conf`,
    ]);
  });

  it("lets the last system drop-in win when there are no user files", async () => {
    expect(
      await loadedSearch({
        [SYSTEM]: search("system.io"),
        [`${SYSTEM_D}/10-a.conf`]: search("a.io"),
        [`${SYSTEM_D}/20-b.conf`]: search("b.io"),
      }),
    ).toBe(`${SYSTEM_D}/20-b.conf`);
  });

  it("reads the user's registries.conf instead of the system file and its drop-ins", async () => {
    const files = {
      [SYSTEM]: '[[registry]]\nlocation = "system.io"\nblocked = true',
      [`${SYSTEM_D}/10-a.conf`]: search("a.io"),
      [USER]: search("user.io"),
    };
    const io = fakeFs(files);
    const r = await loadRegistriesConf(HOME_PATHS, io)();
    expect(r).toEqual(
      E.right({ unqualifiedSearchRegistries: { registries: ["user.io"], source: USER }, registries: [] }),
    );
    expect(io.read).not.toContain(SYSTEM);
    expect(io.read).not.toContain(`${SYSTEM_D}/10-a.conf`);
  });

  it("still reads the user's drop-ins over the user's registries.conf", async () => {
    expect(await loadedSearch({ [USER]: search("user.io"), [`${USER_D}/1.conf`]: search("d.io") })).toBe(
      `${USER_D}/1.conf`,
    );
  });

  it("reads CONTAINERS_REGISTRIES_CONF instead of both main files, with both drop-in directories", async () => {
    const paths = registriesConfPaths({ CONTAINERS_REGISTRIES_CONF: "/tmp/r.conf" }, "/home/ann");
    const files = {
      "/tmp/r.conf": search("explicit.io"),
      [USER]: search("user.io"),
      [SYSTEM]: search("s.io"),
    };
    expect(await loadedSearch(files, paths)).toBe("/tmp/r.conf");
    expect(await loadedSearch({ ...files, [`${SYSTEM_D}/1.conf`]: search("d.io") }, paths)).toBe(
      `${SYSTEM_D}/1.conf`,
    );
  });

  it("says when CONTAINERS_REGISTRIES_CONF names a missing file", async () => {
    const paths = registriesConfPaths({ CONTAINERS_REGISTRIES_CONF: "/tmp/none.conf" }, "/home/ann");
    expect(await loadRegistriesConf(paths, fakeFs({}))()).toEqual(
      E.left({
        _tag: "RegistriesConfInvalid",
        message: "/tmp/none.conf: no such file (named by CONTAINERS_REGISTRIES_CONF)",
      }),
    );
  });

  it("is the empty configuration when no file exists", async () => {
    expect(await loadRegistriesConf(HOME_PATHS, fakeFs({}))()).toEqual(E.right(EMPTY_REGISTRIES_CONF));
  });

  it("names the drop-in that is broken", async () => {
    const r = await loadRegistriesConf(
      HOME_PATHS,
      fakeFs({ [SYSTEM]: "", [`${SYSTEM_D}/50-old.conf`]: "[registries.search]\nregistries = ['a.io']" }),
    )();
    expect(E.isLeft(r) && r.left.message).toMatch(
      new RegExp(`^${SYSTEM_D}/50-old.conf: the version 1 format`),
    );
  });

  it("turns a failed read into an error", async () => {
    const io: ConfReader = {
      readFile: () =>
        Promise.reject(new Error("EACCES: permission denied, open '/etc/containers/registries.conf'")),
      readDir: async () => undefined,
    };
    expect(await loadRegistriesConf(HOME_PATHS, io)()).toEqual(
      E.left({
        _tag: "RegistriesConfInvalid",
        message: "reading registries.conf: EACCES: permission denied, open '/etc/containers/registries.conf'",
      }),
    );
  });
});

describe("candidates", () => {
  it("sends a short name to Docker Hub's API host when nothing is configured", () => {
    expect(resolve("alpine")).toEqual([
      {
        reference: { registry: "docker.io", repository: "library/alpine", tag: "latest", short: false },
        endpoints: [{ host: "registry-1.docker.io", insecure: false, repository: "library/alpine" }],
      },
    ]);
  });

  it("gives a short name one candidate per search registry, completed as typed", () => {
    const c = conf('unqualified-search-registries = ["quay.io", "docker.io", "localhost:5000"]');
    expect(resolve("alpine:3", c).map((s) => formatReference(s.reference))).toEqual([
      "quay.io/alpine:3",
      "docker.io/library/alpine:3",
      "localhost:5000/alpine:3",
    ]);
    expect(endpoints("user/app", c)).toEqual([
      ["quay.io/user/app"],
      ["registry-1.docker.io/user/app"],
      ["localhost:5000/user/app (insecure)"],
    ]);
  });

  it("keeps the digest of a short name on every candidate", () => {
    const c = conf('unqualified-search-registries = ["quay.io", "docker.io"]');
    expect(resolve(`app@${DIGEST}`, c).map((s) => formatReference(s.reference))).toEqual([
      `quay.io/app@${DIGEST}`,
      `docker.io/library/app@${DIGEST}`,
    ]);
  });

  it("refuses a short name when the search list is set empty", () => {
    expect(candidates(ref("alpine"), conf("unqualified-search-registries = []"))).toEqual(
      E.left({
        _tag: "NoSearchRegistries",
        message: `short name "alpine:latest" names no registry, and unqualified-search-registries is empty in ${SYSTEM}`,
        hint: "name the registry, as in docker.io/library/alpine:latest",
      }),
    );
  });

  it("gives a qualified name just itself, whatever the search list", () => {
    const c = conf('unqualified-search-registries = ["quay.io"]');
    expect(resolve("docker.io/alpine", c)).toEqual([
      {
        reference: ref("docker.io/alpine"),
        endpoints: [{ host: "registry-1.docker.io", insecure: false, repository: "library/alpine" }],
      },
    ]);
    expect(endpoints("ghcr.io/o/r:1", c)).toEqual([["ghcr.io/o/r"]]);
  });

  it("follows the man page's example: mirrors in order, then the rewritten location", () => {
    expect(endpoints("example.com/foo/image:latest", conf(PODMAN_FILE))).toEqual([
      ["example-mirror-0.local/mirror-for-foo/image", "internal-registry-for-example.com/bar/image"],
    ]);
    // The second mirror is digest-only.
    expect(endpoints(`example.com/foo/image@${DIGEST}`, conf(PODMAN_FILE))).toEqual([
      [
        "example-mirror-0.local/mirror-for-foo/image",
        "example-mirror-1.local/mirrors/foo/image (insecure)",
        "internal-registry-for-example.com/bar/image",
      ],
    ]);
  });

  it("keeps the reference as named, whatever location it is pulled from", () => {
    expect(resolve("example.com/foo/image:1", conf(PODMAN_FILE))[0]?.reference).toEqual(
      ref("example.com/foo/image:1"),
    );
  });

  it("matches prefixes on whole path components", () => {
    const c = conf('[[registry]]\nprefix = "example.com/foo"\nlocation = "m.io/x"');
    expect(endpoints("example.com/foo/app", c)).toEqual([["m.io/x/app"]]);
    expect(endpoints("example.com/foobar/app", c)).toEqual([["example.com/foobar/app"]]);
    expect(endpoints("example.com:5000/foo/app", c)).toEqual([["example.com:5000/foo/app"]]);
  });

  it("uses the longest matching prefix", () => {
    const c = conf(`
[[registry]]
prefix = "example.com"
location = "short.io"
[[registry]]
prefix = "example.com/team/app"
location = "exact.io/app"
[[registry]]
prefix = "example.com/team"
location = "team.io/t"
`);
    expect(endpoints("example.com/team/app", c)).toEqual([["exact.io/app"]]);
    expect(endpoints("example.com/team/app/sub", c)).toEqual([["exact.io/app/sub"]]);
    expect(endpoints("example.com/team/other", c)).toEqual([["team.io/t/other"]]);
    expect(endpoints("example.com/solo", c)).toEqual([["short.io/solo"]]);
  });

  it("mirrors and rewrites Docker Hub through its normalised name", () => {
    const c = conf(
      '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "mirror.gcr.io"',
    );
    expect(endpoints("alpine", c)).toEqual([
      ["mirror.gcr.io/library/alpine", "registry-1.docker.io/library/alpine"],
    ]);
  });

  it("adds library/ when a location lands a one-component name on Docker Hub", () => {
    const c = conf('[[registry]]\nprefix = "example.com/hub"\nlocation = "docker.io"');
    expect(endpoints("example.com/hub/alpine", c)).toEqual([["registry-1.docker.io/library/alpine"]]);
  });

  it("says when a location leaves no repository to pull", () => {
    const c = conf('[[registry]]\nprefix = "example.com/app"\nlocation = "other.io"');
    expect(candidates(ref("example.com/app:1"), c)).toEqual(
      E.left({
        _tag: "RegistriesConfInvalid",
        message: `${SYSTEM}: [[registry]] prefix "example.com/app" maps example.com/app to "other.io", which names no repository`,
        hint: "give the location a repository path, or make the prefix shorter",
      }),
    );
  });

  describe("wildcard prefixes", () => {
    const c = conf(`
[[registry]]
prefix = "*.example.com"
insecure = true
[[registry.mirror]]
location = "cache.local"
`);

    it("apply to any subdomain, at any depth and port, keeping the name", () => {
      expect(endpoints("a.example.com/x", c)).toEqual([["cache.local/x", "a.example.com/x (insecure)"]]);
      expect(endpoints("a.b.example.com:5000/ns/x", c)).toEqual([
        ["cache.local/ns/x", "a.b.example.com:5000/ns/x (insecure)"],
      ]);
    });

    it("do not apply to the domain itself or to look-alikes", () => {
      expect(endpoints("example.com/x", c)).toEqual([["example.com/x"]]);
      expect(endpoints("badexample.com/x", c)).toEqual([["badexample.com/x"]]);
      expect(endpoints("a.example.com.evil.io/x", c)).toEqual([["a.example.com.evil.io/x"]]);
    });

    it("rewrite the whole registry when they have a location", () => {
      const w = conf('[[registry]]\nprefix = "*.corp.io"\nlocation = "proxy.local/corp"');
      expect(endpoints("eu.corp.io:443/team/app", w)).toEqual([["proxy.local/corp/team/app"]]);
    });

    it("lose to a plain prefix of the same length", () => {
      const tie = conf(
        '[[registry]]\nprefix = "*.example.com"\nblocked = true\n[[registry]]\nlocation = "a.example.com"',
      );
      expect(endpoints("a.example.com/x", tie)).toEqual([["a.example.com/x"]]);
    });
  });

  describe("blocked registries", () => {
    const c = conf(`
unqualified-search-registries = ["evil.io", "quay.io"]
[[registry]]
location = "evil.io"
blocked = true
[[registry]]
prefix = "quay.io/bad"
location = "quay.io/bad"
blocked = true
`);

    it("refuse a qualified name with a message naming the file and prefix", () => {
      expect(candidates(ref("evil.io/x:1"), c)).toEqual(
        E.left({
          _tag: "RegistryBlocked",
          message: `pulling evil.io/x:1 is blocked by ${SYSTEM} ([[registry]] prefix "evil.io")`,
          hint: `ask the administrator, or set blocked = false in ${SYSTEM} if it is yours`,
        }),
      );
    });

    it("block only under their prefix", () => {
      expect(E.isLeft(candidates(ref("quay.io/bad/x"), c))).toBe(true);
      expect(endpoints("quay.io/good/x", c)).toEqual([["quay.io/good/x"]]);
    });

    it("are passed over when searching for a short name", () => {
      expect(endpoints("x", c)).toEqual([["quay.io/x"]]);
    });

    it("refuse a short name only when every search registry is blocked", () => {
      const r = candidates(ref("bad/x"), c);
      expect(r).toEqual(
        E.left({
          _tag: "RegistryBlocked",
          message:
            `short name "bad/x:latest": every unqualified-search registry is blocked for it ` +
            `(evil.io/bad/x:latest is blocked by ${SYSTEM} ([[registry]] prefix "evil.io"); ` +
            `quay.io/bad/x:latest is blocked by ${SYSTEM} ([[registry]] prefix "quay.io/bad"))`,
          hint: "name a registry that is not blocked",
        }),
      );
    });
  });

  describe("mirror restrictions", () => {
    const byDigest = conf(`
[[registry]]
location = "a.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "m.io"
`);
    const perMirror = conf(`
[[registry]]
location = "a.io"
[[registry.mirror]]
location = "tags.io"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "digests.io"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "all.io"
pull-from-mirror = "all"
`);

    it("mirror-by-digest-only keeps tag pulls on the primary", () => {
      expect(endpoints("a.io/x:1", byDigest)).toEqual([["a.io/x"]]);
      expect(endpoints(`a.io/x@${DIGEST}`, byDigest)).toEqual([["m.io/x", "a.io/x"]]);
    });

    it("pull-from-mirror picks mirrors per pull kind", () => {
      expect(endpoints("a.io/x:1", perMirror)).toEqual([["tags.io/x", "all.io/x", "a.io/x"]]);
      expect(endpoints(`a.io/x:1@${DIGEST}`, perMirror)).toEqual([["digests.io/x", "all.io/x", "a.io/x"]]);
    });
  });

  it("lets a [[registry]] table make a host insecure, and keeps mirrors' own settings", () => {
    const c = conf(
      '[[registry]]\nlocation = "lab.io"\ninsecure = true\n[[registry.mirror]]\nlocation = "m.io"',
    );
    expect(endpoints("lab.io/x", c)).toEqual([["m.io/x", "lab.io/x (insecure)"]]);
  });

  it.each([
    ["localhost/x", true],
    ["localhost:5000/x", true],
    ["127.0.0.1:5000/x", true],
    ["127.255.0.1/x", true],
    ["[::1]:5000/x", true],
    ["[0:0:0:0:0:0:0:1]/x", true],
    ["128.0.0.1/x", false],
    ["127.0.0.256/x", false],
    ["localhost.example.com/x", false],
    ["[::2]/x", false],
    ["quay.io/x", false],
  ])("treats %s as insecure by default: %s", (name, insecure) => {
    expect(resolve(name)[0]?.endpoints[0]?.insecure).toBe(insecure);
  });
});

describe("isLoopback", () => {
  it("ignores the port and the case of localhost", () => {
    expect(isLoopback("LOCALHOST:80")).toBe(true);
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("[::1]")).toBe(true);
    expect(isLoopback("10.0.0.1:5000")).toBe(false);
  });
});
