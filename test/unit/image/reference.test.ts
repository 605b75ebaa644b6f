import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  familiarName,
  familiarString,
  formatReference,
  isShortName,
  parseReference,
  type Reference,
} from "../../../src/image/reference.js";

const HEX = "a".repeat(32) + "0123456789abcdef".repeat(2);
const DIGEST = `sha256:${HEX}`;

const ok = (input: string): Reference => {
  const r = parseReference(input);
  if (E.isLeft(r)) throw new Error(`expected ${input} to parse: ${r.left.message}`);
  return r.right;
};

const message = (input: string): string => {
  const r = parseReference(input);
  if (E.isRight(r)) throw new Error(`expected ${input} to be refused, got ${formatReference(r.right)}`);
  return r.left.message;
};

// input, full normalised form, familiar name (the REPOSITORY column), short?
const valid: [string, string, string, boolean][] = [
  ["alpine", "docker.io/library/alpine:latest", "alpine", true],
  ["alpine:3.19", "docker.io/library/alpine:3.19", "alpine", true],
  ["ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu", true],
  ["a", "docker.io/library/a:latest", "a", true],
  ["user/app", "docker.io/user/app:latest", "user/app", true],
  ["user/app:v1.2-rc_3", "docker.io/user/app:v1.2-rc_3", "user/app", true],
  ["library/alpine", "docker.io/library/alpine:latest", "alpine", true],
  ["a/b/c/d", "docker.io/a/b/c/d:latest", "a/b/c/d", true],
  ["a-b--c__d_e/f.g0", "docker.io/a-b--c__d_e/f.g0:latest", "a-b--c__d_e/f.g0", true],
  ["x:_tag", "docker.io/library/x:_tag", "x", true],
  ["x:UPPER.case-1", "docker.io/library/x:UPPER.case-1", "x", true],
  // A name of one component is never a host, so this is Docker Hub's "localhost" with tag 5000 (normalize.go).
  ["localhost:5000", "docker.io/library/localhost:5000", "localhost", true],
  ["docker.io/alpine", "docker.io/library/alpine:latest", "alpine", false],
  ["docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine", false],
  ["docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b", false],
  ["index.docker.io/x", "docker.io/library/x:latest", "x", false],
  ["index.docker.io/user/x:1", "docker.io/user/x:1", "user/x", false],
  // Only index.docker.io is an alias of docker.io; the API host is a registry like any other.
  [
    "registry-1.docker.io/library/x",
    "registry-1.docker.io/library/x:latest",
    "registry-1.docker.io/library/x",
    false,
  ],
  ["localhost/x", "localhost/x:latest", "localhost/x", false],
  ["localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x", false],
  ["host:5000/ns/name:tag", "host:5000/ns/name:tag", "host:5000/ns/name", false],
  ["127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest", "127.0.0.1:5000/busybox", false],
  ["[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x", false],
  ["[::1]/x", "[::1]/x:latest", "[::1]/x", false],
  ["[2001:db8::1]:5000/ns/x:1", "[2001:db8::1]:5000/ns/x:1", "[2001:db8::1]:5000/ns/x", false],
  ["quay.io/a/b/c/d:tag", "quay.io/a/b/c/d:tag", "quay.io/a/b/c/d", false],
  [
    "my-registry.example.com:443/x",
    "my-registry.example.com:443/x:latest",
    "my-registry.example.com:443/x",
    false,
  ],
  // Host names are not lowercased (distribution's domain grammar allows capitals).
  ["Example.COM/x", "Example.COM/x:latest", "Example.COM/x", false],
  [`name@${DIGEST}`, `docker.io/library/name@${DIGEST}`, "name", true],
  [`name:tag@${DIGEST}`, `docker.io/library/name:tag@${DIGEST}`, "name", true],
  [`quay.io/ns/x@${DIGEST}`, `quay.io/ns/x@${DIGEST}`, "quay.io/ns/x", false],
  [`localhost:5000/x:1@${DIGEST}`, `localhost:5000/x:1@${DIGEST}`, "localhost:5000/x", false],
  [`x@sha512:${"f".repeat(128)}`, `docker.io/library/x@sha512:${"f".repeat(128)}`, "x", true],
  [`x:${"t".repeat(128)}`, `docker.io/library/x:${"t".repeat(128)}`, "x", true],
  [`ns/${"a".repeat(252)}`, `docker.io/ns/${"a".repeat(252)}:latest`, `ns/${"a".repeat(252)}`, true],
];

// input, the problem after `invalid reference "<input>": `
const invalid: [string, string][] = [
  ["", "the name is empty"],
  ["Alpine", "repository name must be lowercase"],
  ["Foo/bar", "repository name must be lowercase"],
  ["a:b:c", "only one ':tag' may follow the repository name (a registry port needs a '/' after it)"],
  ["x@sha256:abc", "digest must be sha256: followed by 64 lowercase hex digits"],
  [`x@sha256:${HEX.toUpperCase()}`, "digest must be sha256: followed by 64 lowercase hex digits"],
  [`x@md5:${HEX}`, "digest must be sha256: followed by 64 lowercase hex digits"],
  ["alpine@", "'@' must be followed by a digest (sha256:<64 hex digits>)"],
  [`x@y@${DIGEST}`, "only one '@digest' may follow the name"],
  ["alpine:", "':' must be followed by a tag"],
  ["al pine", "a reference cannot contain spaces or other white space"],
  [" alpine", "a reference cannot contain spaces or other white space"],
  ["alpine\n", "a reference cannot contain spaces or other white space"],
  [":latest", "the repository name is missing"],
  [`@${DIGEST}`, "the repository name is missing"],
  ["example.com/", "the repository name after the registry is missing"],
  ["a//b", "repository name has an empty path component (\"//\" or a '/' at an end)"],
  ["a/", "repository name has an empty path component (\"//\" or a '/' at an end)"],
  [
    "-a",
    `repository path component "-a" must be lowercase letters and digits, joined by single '.' or '_', double '_' or any number of '-'`,
  ],
  [
    "a..b",
    `repository path component "a..b" must be lowercase letters and digits, joined by single '.' or '_', double '_' or any number of '-'`,
  ],
  [
    "a___b",
    `repository path component "a___b" must be lowercase letters and digits, joined by single '.' or '_', double '_' or any number of '-'`,
  ],
  [
    "café",
    `repository path component "café" must be lowercase letters and digits, joined by single '.' or '_', double '_' or any number of '-'`,
  ],
  [
    "a:.tag",
    `tag ".tag" may hold only letters, digits, '_', '.' and '-', and must not start with '.' or '-'`,
  ],
  [
    "a:-tag",
    `tag "-tag" may hold only letters, digits, '_', '.' and '-', and must not start with '.' or '-'`,
  ],
  [`a:${"t".repeat(129)}`, "tag is longer than 128 characters"],
  ["host:port/x", 'registry port "port" is not a number'],
  ["host:/x", 'registry port "" is not a number'],
  ["exa_mple.com/x", 'registry host "exa_mple.com" is not a valid host name'],
  ["-bad.com/x", 'registry host "-bad.com" is not a valid host name'],
  // A first component with a '.' is a host, even when it would be a valid path component.
  ["my_org.v2/app", 'registry host "my_org.v2" is not a valid host name'],
  ["[::1/x", `registry host "[::1" has no closing ']'`],
  ["[zz::1]:5000/x", 'registry host "[zz::1]" is not an IPv6 address in brackets'],
  [HEX, "64 hex digits are an image id, not a repository name"],
  ["docker://alpine", "a reference has no URL scheme"],
  ["https://quay.io/x", "a reference has no URL scheme"],
  ["a".repeat(248), "repository name is longer than 255 characters"],
  [`ns/${"a".repeat(253)}`, "repository name is longer than 255 characters"],
];

describe("parseReference", () => {
  it.each(valid)("parses %s as %s", (input, full, familiar, short) => {
    const ref = ok(input);
    expect(formatReference(ref)).toBe(full);
    expect(familiarName(ref)).toBe(familiar);
    expect(ref.short).toBe(short);
    expect(isShortName(ref)).toBe(short);
  });

  it.each(invalid)("refuses %j", (input, problem) => {
    expect(message(input)).toBe(`invalid reference ${JSON.stringify(input)}: ${problem}`);
  });

  it("normalises a short name into its parts", () => {
    expect(ok("alpine")).toEqual({
      registry: "docker.io",
      repository: "library/alpine",
      tag: "latest",
      short: true,
    });
  });

  it("keeps a registry with a port and a nested path", () => {
    expect(ok("host:5000/ns/name:tag")).toEqual({
      registry: "host:5000",
      repository: "ns/name",
      tag: "tag",
      short: false,
    });
  });

  it("adds no default tag when a digest is given", () => {
    const ref = ok(`name@${DIGEST}`);
    expect(ref).toEqual({ registry: "docker.io", repository: "library/name", digest: DIGEST, short: true });
    expect("tag" in ref).toBe(false);
  });

  it("keeps both a tag and a digest", () => {
    expect(ok(`name:tag@${DIGEST}`)).toEqual({
      registry: "docker.io",
      repository: "library/name",
      tag: "tag",
      digest: DIGEST,
      short: true,
    });
  });

  it("is an InvalidReference error with a one-line message", () => {
    const r = parseReference("Alpine");
    expect(r).toEqual(
      E.left({
        _tag: "InvalidReference",
        message: 'invalid reference "Alpine": repository name must be lowercase',
        hint: "try alpine",
      }),
    );
  });

  it("suggests the lowercase name with its registry and tag", () => {
    const r = parseReference("quay.io/Org/App:v1");
    expect(E.isLeft(r) && r.left.hint).toBe("try quay.io/org/app:v1");
  });

  it("suggests dropping a URL scheme", () => {
    const r = parseReference("docker://alpine:3");
    expect(E.isLeft(r) && r.left.hint).toBe('drop "docker://": alpine:3');
  });

  it("escapes control characters in the message so it stays on one line", () => {
    expect(message("a\nb")).not.toContain("\n");
  });
});

describe("hostile references", () => {
  // Regular expressions with nested repetition can take exponential time on
  // crafted input; these would hang the test run if ours did.
  it("refuses long near-miss names without backtracking for ever", () => {
    const started = Date.now();
    expect(message(`${"a-".repeat(50_000)}!`)).toMatch(/must be lowercase letters and digits/);
    expect(message(`${"a_".repeat(50_000)}_`)).toMatch(/must be lowercase letters and digits/);
    expect(message(`${"a".repeat(100_000)}-.com/x`)).toMatch(/is not a valid host name/);
    expect(message(`x:${"t".repeat(100_000)}`)).toBe(
      `invalid reference "x:${"t".repeat(100_000)}": tag is longer than 128 characters`,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("refuses names that are only separators or slashes", () => {
    expect(message("/")).toContain("empty path component");
    expect(message("...")).toContain("must be lowercase letters and digits");
    expect(message(".../x")).toContain("is not a valid host name");
    expect(message("__")).toContain("must be lowercase letters and digits");
  });
});

describe("formatReference and familiar forms", () => {
  it.each(valid)("round-trips %s through the full form", (input) => {
    const ref = ok(input);
    // The full form always names its registry, so it is never short.
    expect(ok(formatReference(ref))).toEqual({ ...ref, short: false });
  });

  it.each(valid)("round-trips %s through the familiar form", (input) => {
    const ref = ok(input);
    expect(formatReference(ok(familiarString(ref)))).toBe(formatReference(ref));
  });

  it("shows tags and digests in the familiar string", () => {
    expect(familiarString(ok("alpine"))).toBe("alpine:latest");
    expect(familiarString(ok(`docker.io/user/app:1@${DIGEST}`))).toBe(`user/app:1@${DIGEST}`);
    expect(familiarString(ok(`127.0.0.1:5000/busybox@${DIGEST}`))).toBe(`127.0.0.1:5000/busybox@${DIGEST}`);
  });
});
