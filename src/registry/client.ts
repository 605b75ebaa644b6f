// A client for one repository on one registry endpoint (OCI distribution
// spec, /v2/). Authentication escalates as Docker's does: every request first
// goes out as it is; a 401 names the scheme in WWW-Authenticate, and the client
// answers it once (a bearer token from the realm, anonymous or with the
// user's credentials; or basic credentials) and retries. Transient failures
// (dropped connections, 5xx, 429) are retried with exponential backoff.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import type { Digest } from "../image/digest.js";
import { decodeJson } from "../lib/decode.js";
import { parseChallenge, type Challenge } from "./challenge.js";
import { describeErrorBody, type RegistryError } from "./errors.js";
import { discard, failureOf, httpGet, readBody, type HttpResponse } from "./http.js";

export interface Endpoint {
  /** "registry-1.docker.io", "127.0.0.1:5000" */
  readonly host: string;
  /** Plain HTTP instead of HTTPS. */
  readonly insecure: boolean;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly contentType: string | undefined;
  /** sha256 of the bytes, as the registry's Docker-Content-Digest should say. */
  readonly digest: Digest;
}

/** Token endpoints answer with `token` (Docker) or `access_token` (OAuth2), or both. */
export const TokenResponse = t.intersection([
  t.partial({ token: t.string, access_token: t.string, expires_in: t.number, issued_at: t.string }),
  t.type({}),
]);
export type TokenResponse = t.TypeOf<typeof TokenResponse>;

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
}
const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const isTransientStatus = (s: number): boolean =>
  s === 429 || s === 502 || s === 503 || s === 504 || s === 500;

export class RegistryClient {
  /** Cached for the requests that follow: a token is scoped to this repository. */
  private authorization: string | undefined;

  constructor(
    readonly endpoint: Endpoint,
    readonly repository: string,
    private readonly credentials: Credentials | undefined,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    authorization?: string,
    scheme?: "https" | "http",
  ) {
    this.authorization = authorization;
    this.scheme = scheme;
  }

  /**
   * https, or http once an insecure registry turned out to speak plain HTTP
   * (containers/image's fallback); undefined until the first answer.
   */
  private scheme: "https" | "http" | undefined;

  get currentScheme(): "https" | "http" | undefined {
    return this.scheme;
  }

  /** The Authorization header this client has earned, to hand to a client in a worker thread. */
  get currentAuthorization(): string | undefined {
    return this.authorization;
  }

  get credentialsInUse(): Credentials | undefined {
    return this.credentials;
  }

  private get base(): string {
    const root = `${this.scheme ?? "https"}://${this.endpoint.host}/v2/`;
    return this.repository === "" ? root.slice(0, -1) : `${root}${this.repository}`;
  }

  /** Where the user sees it: "127.0.0.1:5000/busybox". */
  get name(): string {
    return `${this.endpoint.host}/${this.repository}`;
  }

  private unreachable(message: string): RegistryError {
    return {
      _tag: "RegistryUnreachable",
      message: `cannot reach ${this.endpoint.host}: ${message}`,
      hint: this.endpoint.insecure
        ? undefined
        : "if this registry serves plain HTTP, mark it insecure in registries.conf ([[registry]] location=... insecure=true)",
    };
  }

  /**
   * GET path (relative to /v2/<repository>), answering an auth challenge once
   * and retrying transient failures. Right is any response that is not 401
   * and not a transient failure; the caller reads or discards its body.
   */
  async get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<E.Either<RegistryError, HttpResponse>> {
    let lastError = "";
    // One challenge answered per request: a token that expires mid-pull is renewed once.
    let answeredChallenge = false;
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      if (attempt > 0) await sleep(this.retry.baseDelayMs * 2 ** (attempt - 1));
      let res: HttpResponse;
      try {
        res = await httpGet(new URL(`${this.base}${path}`), {
          headers: { ...headers, ...(this.authorization ? { Authorization: this.authorization } : {}) },
          verifyTls: !this.endpoint.insecure,
        });
      } catch (e) {
        // An insecure registry that answers a TLS hello with plain HTTP: use HTTP from now on.
        if (this.scheme === undefined && this.endpoint.insecure && speaksPlainHttp(e)) {
          this.scheme = "http";
          attempt--;
          continue;
        }
        lastError = failureOf(e).message;
        continue;
      }
      this.scheme ??= "https";
      if (res.status === 401 && !answeredChallenge) {
        answeredChallenge = true;
        const challenge = parseChallenge(headerValue(res.headers["www-authenticate"]));
        discard(res);
        const answered = await this.answer(challenge);
        if (E.isLeft(answered)) return answered;
        attempt--; // the retry after authenticating is not a failure
        continue;
      }
      if (res.status === 401) {
        discard(res);
        return E.left(this.unauthorized());
      }
      if (isTransientStatus(res.status)) {
        lastError = `HTTP ${res.status}`;
        discard(res);
        continue;
      }
      return E.right(res);
    }
    return E.left(this.unreachable(`${lastError} (after ${this.retry.attempts} attempts)`));
  }

  private unauthorized(): RegistryError {
    return this.credentials
      ? {
          _tag: "RegistryUnauthorized",
          message: `${this.endpoint.host} refused the credentials of ${this.credentials.username}${this.repository ? ` for ${this.repository}` : ""}`,
          hint: `check them with: nook login ${this.endpoint.host}`,
        }
      : {
          _tag: "RegistryUnauthorized",
          message: `${this.endpoint.host} wants credentials for ${this.repository}, and nook has none for it`,
          hint: `nook login ${this.endpoint.host}`,
        };
  }

  /** Sets the Authorization header the challenge asks for. */
  private async answer(challenge: Challenge | undefined): Promise<E.Either<RegistryError, void>> {
    if (challenge?.scheme === "basic") {
      if (!this.credentials) return E.left(this.unauthorized());
      this.authorization = basic(this.credentials);
      return E.right(undefined);
    }
    if (challenge?.scheme === "bearer" && challenge.params.realm) return this.fetchToken(challenge);
    return E.left({
      _tag: "RegistryProtocol",
      message: `${this.endpoint.host} answered 401 without a challenge nook understands`,
    });
  }

  private async fetchToken(challenge: Challenge): Promise<E.Either<RegistryError, void>> {
    const realm = challenge.params.realm ?? "";
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      return E.left({ _tag: "RegistryProtocol", message: `${this.endpoint.host}: bad token realm ${realm}` });
    }
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    // A client for the registry itself (login) asks for no repository scope, as docker login does.
    const scope =
      challenge.params.scope ?? (this.repository ? `repository:${this.repository}:pull` : undefined);
    if (scope) url.searchParams.set("scope", scope);
    let res: HttpResponse;
    try {
      res = await httpGet(url, {
        headers: this.credentials ? { Authorization: basic(this.credentials) } : {},
      });
    } catch (e) {
      return E.left(this.unreachable(`token server ${url.host}: ${failureOf(e).message}`));
    }
    if (res.status === 401 || res.status === 403) {
      discard(res);
      return E.left(this.unauthorized());
    }
    if (res.status !== 200) {
      discard(res);
      return E.left({
        _tag: "RegistryFailed",
        status: res.status,
        message: `token server ${url.host} answered HTTP ${res.status}`,
      });
    }
    const decoded = decodeJson(
      TokenResponse,
      `token from ${url.host}`,
    )((await readBody(res, 1 << 20)).toString("utf8"));
    if (E.isLeft(decoded)) return E.left({ _tag: "RegistryProtocol", message: decoded.left.message });
    const token = decoded.right.token ?? decoded.right.access_token;
    if (!token)
      return E.left({ _tag: "RegistryProtocol", message: `token from ${url.host}: no token in the answer` });
    this.authorization = `Bearer ${token}`;
    return E.right(undefined);
  }

  /**
   * GET /v2/ with credentials: what docker login does to check them. Use a
   * client made with the repository "".
   */
  async checkLogin(): Promise<E.Either<RegistryError, void>> {
    const got = await this.get("/");
    if (E.isLeft(got)) return got;
    discard(got.right);
    if (got.right.status === 200) return E.right(undefined);
    return E.left({
      _tag: "RegistryFailed",
      status: got.right.status,
      message: `${this.endpoint.host}/v2/ answered HTTP ${got.right.status}: not a registry?`,
    });
  }

  /** GET /manifests/<ref>; the digest is computed here, and checked against the one asked for. */
  async manifest(ref: string, accept: string): Promise<E.Either<RegistryError, FetchedManifest>> {
    const got = await this.get(`/manifests/${ref}`, { Accept: accept });
    if (E.isLeft(got)) return got;
    const res = got.right;
    if (res.status === 404) {
      discard(res);
      return E.left({
        _tag: "ManifestUnknown",
        message: `${this.name}:${ref}: manifest unknown (no such image or tag)`,
      });
    }
    let bytes: Buffer;
    try {
      bytes = await readBody(res, 4 << 20);
    } catch (e) {
      return E.left(this.unreachable(failureOf(e).message));
    }
    if (res.status !== 200) return E.left(this.failed(res.status, bytes, `manifest ${ref}`));
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}` as Digest;
    if (ref.startsWith("sha256:") && ref !== digest)
      return E.left({
        _tag: "DigestMismatch",
        message: `${this.name}@${ref}: the registry sent a manifest whose digest is ${digest}`,
      });
    return E.right({ bytes, contentType: headerValue(res.headers["content-type"])?.split(";")[0], digest });
  }

  /**
   * A blob's body from byte `offset` on. Right(undefined) never happens; a
   * registry that ignores Range answers 200 from the start, which the caller
   * sees as `resumed: false`.
   */
  async blob(
    digest: Digest,
    offset = 0,
  ): Promise<E.Either<RegistryError, { body: Readable; resumed: boolean; length: number | undefined }>> {
    const got = await this.get(`/blobs/${digest}`, offset > 0 ? { Range: `bytes=${offset}-` } : {});
    if (E.isLeft(got)) return got;
    const res = got.right;
    if (res.status === 404) {
      discard(res);
      return E.left({ _tag: "BlobUnknown", message: `${this.name}: blob ${digest} unknown to the registry` });
    }
    if (res.status !== 200 && res.status !== 206) {
      const body = await readBody(res, 1 << 20).catch(() => Buffer.alloc(0));
      return E.left(this.failed(res.status, body, `blob ${digest}`));
    }
    const len = Number(headerValue(res.headers["content-length"]));
    return E.right({
      body: res.body,
      resumed: res.status === 206,
      length: Number.isFinite(len) ? len : undefined,
    });
  }

  private failed(status: number, body: Buffer, what: string): RegistryError {
    const said = describeErrorBody(body);
    return {
      _tag: "RegistryFailed",
      status,
      message: `${this.name}: ${what}: HTTP ${status}${said ? ` (${said})` : ""}`,
    };
  }
}

/** What a TLS handshake with a plain-HTTP server fails with. */
const speaksPlainHttp = (e: unknown): boolean => {
  const err = e as NodeJS.ErrnoException;
  return (
    err.code === "EPROTO" ||
    err.code === "ERR_SSL_WRONG_VERSION_NUMBER" ||
    err.code === "ECONNRESET" ||
    /wrong version number|packet length too long|http request/i.test(err.message ?? "")
  );
};

const basic = (c: Credentials): string =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;

const headerValue = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h[0] : h);
