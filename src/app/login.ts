// nook login / logout: check credentials against the registry's /v2/, then
// keep them in the auth file podman login uses.
import * as E from "fp-ts/lib/Either.js";
import { candidates } from "../image/registries-conf.js";
import { parseReference } from "../image/reference.js";
import { EMPTY_REGISTRIES_CONF } from "../image/registries-conf.js";
import type { NookError } from "../lib/errors.js";
import { ownEnv } from "./locations.js";
import { RegistryClient, type Credentials } from "../registry/client.js";
import {
  credentialsFor,
  loginAuthFile,
  removeCredentials,
  storeCredentials,
} from "../registry/credentials.js";

/** "docker.io", "registry.example.com:5000", from what the user typed (a URL or a host). */
const registryHost = (input: string): E.Either<NookError, string> => {
  const host = input.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  const ref = parseReference(`${host}/x`);
  if (E.isLeft(ref) || ref.right.short)
    return E.left({ _tag: "InvalidRegistry", message: `not a registry host: ${input}` });
  return E.right(ref.right.registry);
};

export const login = async (input: string, creds: Credentials): Promise<E.Either<NookError, void>> => {
  const host = registryHost(input);
  if (E.isLeft(host)) return host;
  const ref = parseReference(`${host.right}/x`);
  if (E.isLeft(ref)) return ref;
  // The endpoint (API host, plain HTTP for loopback) comes from the same rules a pull uses.
  const sources = candidates(ref.right, EMPTY_REGISTRIES_CONF);
  if (E.isLeft(sources)) return sources;
  const endpoint = sources.right[0]?.endpoints.at(-1);
  if (!endpoint) return E.left({ _tag: "InvalidRegistry", message: `no endpoint for ${host.right}` });
  const client = new RegistryClient({ host: endpoint.host, insecure: endpoint.insecure }, "", creds);
  const checked = await client.checkLogin();
  if (E.isLeft(checked)) return checked;
  return storeCredentials(loginAuthFile(ownEnv()), host.right, creds);
};

export const logout = async (input: string): Promise<E.Either<NookError, string>> => {
  const host = registryHost(input);
  if (E.isLeft(host)) return host;
  const removed = removeCredentials(loginAuthFile(ownEnv()), host.right);
  if (E.isLeft(removed)) return removed;
  if (removed.right) return E.right(host.right);
  const elsewhere = credentialsFor(host.right, ownEnv());
  return E.left({
    _tag: "NotLoggedIn",
    message: `not logged in to ${host.right}`,
    ...(E.isRight(elsewhere) && elsewhere.right
      ? { hint: "its credentials come from ~/.docker/config.json or another auth file: remove them there" }
      : {}),
  });
};
