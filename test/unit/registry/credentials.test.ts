import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authFilePaths, credentialsFor, loginAuthFile } from "../../../src/registry/credentials.js";
import { parseChallenge } from "../../../src/registry/challenge.js";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("authFilePaths and loginAuthFile", () => {
  it("follow podman's order, then Docker's config", () => {
    expect(
      authFilePaths({ REGISTRY_AUTH_FILE: "/a.json", XDG_RUNTIME_DIR: "/run/user/1", HOME: "/home/u" }),
    ).toEqual([
      "/a.json",
      "/run/user/1/containers/auth.json",
      "/home/u/.config/containers/auth.json",
      "/home/u/.docker/config.json",
    ]);
    expect(authFilePaths({ HOME: "/h", DOCKER_CONFIG: "/d", XDG_CONFIG_HOME: "/c" })).toEqual([
      "/c/containers/auth.json",
      "/d/config.json",
    ]);
  });

  it("write to the session's runtime dir, else the config dir", () => {
    expect(loginAuthFile({ XDG_RUNTIME_DIR: "/run/user/1", HOME: "/h" })).toBe(
      "/run/user/1/containers/auth.json",
    );
    expect(loginAuthFile({ HOME: "/h" })).toBe("/h/.config/containers/auth.json");
    expect(loginAuthFile({ REGISTRY_AUTH_FILE: "/x", HOME: "/h" })).toBe("/x");
  });
});

describe("credentialsFor", () => {
  const files = (m: Record<string, string>) => (p: string) => m[p];
  const env = { HOME: "/h" };

  it("decodes an inline auth, under the host or a URL key", () => {
    const read = files({
      "/h/.docker/config.json": JSON.stringify({
        auths: { "https://r.example:5000": { auth: b64("u:p:w") } },
      }),
    });
    expect(credentialsFor("r.example:5000", env, read)).toEqual(E.right({ username: "u", password: "p:w" }));
  });

  it("finds Docker Hub under its legacy key", () => {
    const read = files({
      "/h/.docker/config.json": JSON.stringify({
        auths: { "https://index.docker.io/v1/": { auth: b64("me:pw") } },
      }),
    });
    expect(credentialsFor("docker.io", env, read)).toEqual(E.right({ username: "me", password: "pw" }));
  });

  it("takes the first file that names the host", () => {
    const read = files({
      "/h/.config/containers/auth.json": JSON.stringify({ auths: { "r.example": { auth: b64("first:1") } } }),
      "/h/.docker/config.json": JSON.stringify({ auths: { "r.example": { auth: b64("second:2") } } }),
    });
    expect(credentialsFor("r.example", env, read)).toEqual(E.right({ username: "first", password: "1" }));
  });

  it("is anonymous when no file names the host", () => {
    expect(credentialsFor("r.example", env, files({}))).toEqual(E.right(undefined));
  });

  it("names the file and field of a malformed entry", () => {
    const read = files({
      "/h/.docker/config.json": JSON.stringify({ auths: { "r.example": { auth: 42 } } }),
    });
    const r = credentialsFor("r.example", env, read);
    expect(E.isLeft(r) && r.left.message).toMatch(/^\/h\/\.docker\/config\.json.*auth/);
    const bad = credentialsFor("r.example", env, files({ "/h/.docker/config.json": "{" }));
    expect(E.isLeft(bad) && bad.left.message).toMatch(/^\/h\/\.docker\/config\.json: not JSON/);
  });

  describe("with a credential helper on PATH", () => {
    let dir = "";
    let oldPath = "";
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "nook-cred-"));
      // A real helper program, as docker-credential-* are: the server on stdin, JSON on stdout.
      writeFileSync(
        join(dir, "docker-credential-nooktest"),
        `#!/bin/sh\nread server\ncase "$server" in\n  r.example) echo '{"ServerURL":"r.example","Username":"helped","Secret":"s3cret"}' ;;\n  *) echo "credentials not found in native keychain"; exit 1 ;;\nesac\n`,
      );
      chmodSync(join(dir, "docker-credential-nooktest"), 0o755);
      oldPath = process.env.PATH ?? "";
      process.env.PATH = `${dir}:${oldPath}`;
    });
    afterAll(() => {
      process.env.PATH = oldPath;
      rmSync(dir, { recursive: true, force: true });
    });

    it("asks the credHelpers entry for the host before any inline auth", () => {
      const read = files({
        "/h/.docker/config.json": JSON.stringify({
          credHelpers: { "r.example": "nooktest" },
          auths: { "r.example": { auth: b64("inline:x") } },
        }),
      });
      expect(credentialsFor("r.example", env, read)).toEqual(
        E.right({ username: "helped", password: "s3cret" }),
      );
    });

    it("falls back to credsStore, and takes 'not found' as no credentials", () => {
      const read = files({ "/h/.docker/config.json": JSON.stringify({ credsStore: "nooktest" }) });
      expect(credentialsFor("r.example", env, read)).toEqual(
        E.right({ username: "helped", password: "s3cret" }),
      );
      expect(credentialsFor("other.example", env, read)).toEqual(E.right(undefined));
    });

    it("names a helper that is not installed", () => {
      const read = files({ "/h/.docker/config.json": JSON.stringify({ credsStore: "absent" }) });
      const r = credentialsFor("r.example", env, read);
      expect(E.isLeft(r) && r.left.message).toBe(
        "credential helper docker-credential-absent not found in PATH",
      );
    });
  });
});

describe("parseChallenge", () => {
  it("reads a bearer challenge with quoted and escaped values", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="reg \\"x\\"",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: 'reg "x"', scope: "repository:a/b:pull" },
    });
  });

  it("reads basic and unknown schemes, and nothing", () => {
    expect(parseChallenge('Basic realm="Registry"')).toEqual({
      scheme: "basic",
      params: { realm: "Registry" },
    });
    expect(parseChallenge("Negotiate")?.scheme).toBe("other");
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});
