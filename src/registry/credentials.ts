// Registry credentials from the files users already have, in Podman's order
// (containers-auth.json(5)): $REGISTRY_AUTH_FILE, then
// $XDG_RUNTIME_DIR/containers/auth.json, then $XDG_CONFIG_HOME/containers/auth.json,
// then Docker's $DOCKER_CONFIG/config.json (~/.docker/config.json). In each
// file a credential helper named for the host (credHelpers) wins over the
// inline "auth", and credsStore is the fallback helper, as Docker does it.
// Helpers are run as `docker-credential-NAME get` with the server on stdin.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { decode, decodeJson } from "../lib/decode.js";
import type { Credentials } from "./client.js";

export const AuthEntry = t.partial({
  auth: t.string,
  identitytoken: t.string,
  username: t.string,
  password: t.string,
});
export const AuthFile = t.partial({
  auths: t.record(t.string, AuthEntry),
  credHelpers: t.record(t.string, t.string),
  credsStore: t.string,
});
export type AuthFile = t.TypeOf<typeof AuthFile>;

/** What `docker-credential-NAME get` prints. */
export const HelperAnswer = t.type({ Username: t.string, Secret: t.string });

export type CredentialsError = {
  readonly _tag: "CredentialsError";
  readonly message: string;
  readonly hint?: string;
};

export interface AuthEnv {
  readonly REGISTRY_AUTH_FILE?: string;
  readonly XDG_RUNTIME_DIR?: string;
  readonly XDG_CONFIG_HOME?: string;
  readonly DOCKER_CONFIG?: string;
  readonly HOME?: string;
}

/** The auth files to look in, first match wins. */
export const authFilePaths = (env: AuthEnv): string[] => {
  const home = env.HOME ?? "/";
  return [
    env.REGISTRY_AUTH_FILE,
    env.XDG_RUNTIME_DIR && join(env.XDG_RUNTIME_DIR, "containers", "auth.json"),
    join(env.XDG_CONFIG_HOME || join(home, ".config"), "containers", "auth.json"),
    join(env.DOCKER_CONFIG || join(home, ".docker"), "config.json"),
  ].filter((p): p is string => !!p);
};

/** Keys a file may use for a host: "127.0.0.1:5000", "https://127.0.0.1:5000", and Docker Hub's legacy URL. */
const keysFor = (host: string): string[] =>
  host === "docker.io"
    ? ["docker.io", "https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io"]
    : [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`];

const fromEntry = (
  e: t.TypeOf<typeof AuthEntry>,
  file: string,
  key: string,
): E.Either<CredentialsError, Credentials | undefined> => {
  if (e.username !== undefined && e.password !== undefined)
    return E.right({ username: e.username, password: e.password });
  if (!e.auth) return E.right(undefined);
  const text = Buffer.from(e.auth, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon <= 0)
    return E.left({
      _tag: "CredentialsError",
      message: `${file}: auths.${key}.auth: expected base64 of "user:password"`,
    });
  return E.right({ username: text.slice(0, colon), password: text.slice(colon + 1) });
};

const runHelper = (name: string, server: string): E.Either<CredentialsError, Credentials | undefined> => {
  const bin = `docker-credential-${name}`;
  let out: string;
  try {
    out = execFileSync(bin, ["get"], {
      input: server,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 30_000,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (err.code === "ENOENT")
      return E.left({
        _tag: "CredentialsError",
        message: `credential helper ${bin} not found in PATH`,
        hint: `install it, or remove "${name}" from credHelpers/credsStore in your Docker config`,
      });
    // Helpers print "credentials not found in native keychain" for an unknown server.
    if (/not found/i.test(`${err.stdout ?? ""}${err.stderr ?? ""}`)) return E.right(undefined);
    return E.left({
      _tag: "CredentialsError",
      message: `${bin} get failed: ${(err.stderr ?? err.message).trim()}`,
    });
  }
  const answer = decodeJson(HelperAnswer, `${bin} get`)(out);
  if (E.isLeft(answer)) return E.left({ _tag: "CredentialsError", message: answer.left.message });
  // Docker: a Username of "<token>" means the Secret is an identity token.
  return E.right({ username: answer.right.Username, password: answer.right.Secret });
};

const lookInFile = (
  file: string,
  parsed: AuthFile,
  host: string,
): E.Either<CredentialsError, Credentials | undefined> => {
  const keys = keysFor(host);
  const helper = keys.map((k) => parsed.credHelpers?.[k]).find((h) => h);
  if (helper) return runHelper(helper, keys[0] === "docker.io" ? "https://index.docker.io/v1/" : host);
  for (const k of keys) {
    const entry = parsed.auths?.[k];
    if (entry) return fromEntry(entry, file, k);
  }
  if (parsed.credsStore)
    return runHelper(parsed.credsStore, keys[0] === "docker.io" ? "https://index.docker.io/v1/" : host);
  return E.right(undefined);
};

/** Credentials for `host` ("docker.io" for Docker Hub), or undefined for anonymous access. */
export const credentialsFor = (
  host: string,
  env: AuthEnv,
  read: (p: string) => string | undefined = readText,
): E.Either<CredentialsError, Credentials | undefined> => {
  for (const file of authFilePaths(env)) {
    const parsed = parseAuthFile(file, read(file));
    if (E.isLeft(parsed)) return parsed;
    const found = lookInFile(file, parsed.right, host);
    if (E.isLeft(found) || found.right) return found;
  }
  return E.right(undefined);
};

const readText = (p: string): string | undefined => {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
};

/** An auth file's text (undefined: no file), decoded; keys nook does not know are kept as they are. */
const parseAuthFile = (
  file: string,
  text: string | undefined,
): E.Either<CredentialsError, AuthFile & Record<string, unknown>> => {
  if (text === undefined || text.trim() === "") return E.right({});
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left({ _tag: "CredentialsError", message: `${file}: not JSON (${(e as Error).message})` });
  }
  const parsed = decode(AuthFile, file)(json);
  if (E.isLeft(parsed)) return E.left({ _tag: "CredentialsError", message: parsed.left.message });
  return E.right({ ...(json as Record<string, unknown>), ...parsed.right });
};

/**
 * The file nook login writes, as podman login does: $REGISTRY_AUTH_FILE, else
 * $XDG_RUNTIME_DIR/containers/auth.json (cleared at logout of the session),
 * else $XDG_CONFIG_HOME/containers/auth.json where there is no login session
 * (HPC batch jobs, CI).
 */
export const loginAuthFile = (env: AuthEnv): string => {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "containers", "auth.json");
  return join(env.XDG_CONFIG_HOME || join(env.HOME ?? "/", ".config"), "containers", "auth.json");
};

const readAuthFile = (file: string): E.Either<CredentialsError, AuthFile & Record<string, unknown>> =>
  parseAuthFile(file, readText(file));

/** Writes the file readable by the user only, by rename, so a crash never leaves it half-written. */
const writeAuthFile = (file: string, content: Record<string, unknown>): void => {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(content, null, "\t")}\n`, { mode: 0o600 });
  renameSync(tmp, file);
};

export const storeCredentials = (
  file: string,
  host: string,
  c: Credentials,
): E.Either<CredentialsError, void> => {
  const current = readAuthFile(file);
  if (E.isLeft(current)) return current;
  const auths = { ...(current.right.auths ?? {}) };
  auths[host] = { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") };
  writeAuthFile(file, { ...current.right, auths });
  return E.right(undefined);
};

/** Right(true) when an entry for `host` was removed. */
export const removeCredentials = (file: string, host: string): E.Either<CredentialsError, boolean> => {
  const current = readAuthFile(file);
  if (E.isLeft(current)) return current;
  const auths = { ...(current.right.auths ?? {}) };
  const keys = keysFor(host).filter((k) => k in auths);
  if (keys.length === 0) return E.right(false);
  for (const k of keys) delete auths[k];
  writeAuthFile(file, { ...current.right, auths });
  return E.right(true);
};
