// HTTP for the registry client, on node:http/https rather than fetch: blob
// downloads need the raw socket's failures (to resume with Range), streaming
// without buffering, and the system CA store, which Node's bundled list is not
// (Debian's /etc/ssl/certs holds the site's own CAs on many HPC clusters).
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Agent as HttpAgent } from "node:http";
import { rootCertificates } from "node:tls";

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as it arrives; read it or call `discard()`. */
  readonly body: IncomingMessage;
  readonly url: URL;
}

export interface HttpRequest {
  readonly method?: "GET" | "HEAD";
  readonly headers?: Record<string, string>;
  /** false: accept any certificate (a registry marked insecure). */
  readonly verifyTls?: boolean;
}

export type HttpFailure = { readonly _tag: "HttpFailure"; readonly message: string; readonly code?: string };

const SYSTEM_CA_FILES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];

let caList: string[] | undefined;
/** Node's bundled roots plus the system store, read once. */
const trustedCas = (): string[] => {
  if (caList) return caList;
  caList = [...rootCertificates];
  const extra = process.env.SSL_CERT_FILE ? [process.env.SSL_CERT_FILE] : SYSTEM_CA_FILES;
  for (const f of extra) {
    try {
      caList.push(readFileSync(f, "utf8"));
      break;
    } catch {
      // try the next location
    }
  }
  return caList;
};

// Keep-alive agents: a pull makes dozens of requests to one host.
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
let httpsAgent: HttpsAgent | undefined;
let unverifiedAgent: HttpsAgent | undefined;

const MAX_REDIRECTS = 5;

const once = (url: URL, req: HttpRequest): Promise<HttpResponse> =>
  new Promise((resolve, reject) => {
    const isHttps = url.protocol === "https:";
    const send = isHttps ? httpsRequest : httpRequest;
    const agent = !isHttps
      ? httpAgent
      : req.verifyTls === false
        ? (unverifiedAgent ??= new HttpsAgent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false }))
        : (httpsAgent ??= new HttpsAgent({ keepAlive: true, maxSockets: 16, ca: trustedCas() }));
    const r = send(url, { method: req.method ?? "GET", headers: req.headers, agent }, (res) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url }),
    );
    r.setTimeout(60_000, () =>
      r.destroy(Object.assign(new Error("no answer for 60 s"), { code: "ETIMEDOUT" })),
    );
    r.once("error", reject);
    r.end();
  });

/** Reads and drops a body so its socket can be reused. */
export const discard = (res: HttpResponse): void => {
  res.body.resume();
};

export const readBody = async (res: HttpResponse, limit = 16 << 20): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += (c as Buffer).length;
    if (n > limit) {
      res.body.destroy();
      throw Object.assign(new Error(`response larger than ${limit} bytes`), { code: "ETOOBIG" });
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
};

/**
 * One request, following redirects (registries send blobs to object storage
 * with a 307). The Authorization header goes only to the host it was meant
 * for: a redirect to another host carries a signed URL instead.
 */
export const httpGet = async (url: URL, req: HttpRequest = {}): Promise<HttpResponse> => {
  let current = url;
  let headers = { ...req.headers };
  for (let i = 0; ; i++) {
    const res = await once(current, { ...req, headers });
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.status) || !location || i === MAX_REDIRECTS) return res;
    discard(res);
    const next = new URL(location, current);
    if (next.host !== current.host) {
      const { Authorization: _drop, ...rest } = headers;
      headers = rest;
    }
    current = next;
  }
};

export const failureOf = (e: unknown): HttpFailure => {
  const err = e as NodeJS.ErrnoException;
  return { _tag: "HttpFailure", message: err.message ?? String(e), code: err.code };
};
